"""What a report renders: the image inventories plus the matcher's findings.

Findings are plain values here so renderers do not depend on the vulnerability DB.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from tidegate.scanner.inventory import ImageInventory
from tidegate.scanner.model import Package


class Severity(enum.IntEnum):
    """Ordered severities; `--fail-on` compares with these."""

    UNDEFINED = 0
    INFORMATIONAL = 1
    LOW = 2
    MEDIUM = 3
    HIGH = 4
    CRITICAL = 5

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.upper()]
        except KeyError as exc:
            msg = f"unknown severity {text!r}"
            raise ValueError(msg) from exc


@dataclass(frozen=True, slots=True)
class Finding:
    """One vulnerability affecting one package of one image."""

    vulnerability_id: str
    severity: Severity
    package: Package
    image: str  # manifest digest
    fixed_version: str = ""
    title: str = ""
    url: str = ""


@dataclass(frozen=True, slots=True)
class ScanReport:
    """Everything a scan produced, ready for any output format."""

    images: tuple[ImageInventory, ...]
    findings: tuple[Finding, ...] = ()
    vulndb_version: int | None = None  # None: no vulnerability DB, so nothing was matched

    def fails(self, threshold: Severity) -> bool:
        """Whether any finding is at or above `threshold` (the CI gate)."""
        return any(f.severity >= threshold for f in self.findings)
