"""What a report renders: the image inventories plus the matcher's findings.

Findings are plain values here so renderers do not depend on the vulnerability DB.
"""

from __future__ import annotations

from dataclasses import dataclass

from tidegate.scanner.inventory import ImageInventory
from tidegate.scanner.model import Package
from tidegate.scanner.severity import Severity
from tidegate.scanner.vulndb.model import Cvss, FixState


@dataclass(frozen=True, slots=True)
class Finding:
    """One vulnerability affecting one package of one image.

    `severity` follows `scanner.severity.resolve`; `vendor_severity` is the feed's own word
    it came from ("" when it came from CVSS) and `rated_by` who rated it (a feed name, or
    the CVSS scorer such as NVD).
    """

    vulnerability_id: str
    severity: Severity
    package: Package
    image: str  # manifest digest
    fixed_version: str = ""
    title: str = ""
    url: str = ""
    fix_state: FixState = FixState.NOT_FIXED
    vendor_severity: str = ""
    rated_by: str = ""
    cvss: tuple[Cvss, ...] = ()


@dataclass(frozen=True, slots=True)
class ScanReport:
    """Everything a scan produced, ready for any output format."""

    images: tuple[ImageInventory, ...]
    findings: tuple[Finding, ...] = ()
    vulndb_version: int | None = None  # None: no vulnerability DB, so nothing was matched

    def fails(self, threshold: Severity) -> bool:
        """Whether any finding is at or above `threshold` (the CI gate)."""
        return any(f.severity.rank >= threshold.rank for f in self.findings)
