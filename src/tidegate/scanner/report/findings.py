"""Matcher findings as report findings (the values every output format renders)."""

from __future__ import annotations

from collections.abc import Iterable

from tidegate.scanner.inventory import ImageInventory
from tidegate.scanner.match import AdvisoryLookup, match_inventory
from tidegate.scanner.report.model import Finding, Severity
from tidegate.scanner.vulndb.model import FixState, Rating

_SEVERITY = {
    Rating.CRITICAL: Severity.CRITICAL,
    Rating.HIGH: Severity.HIGH,
    Rating.MEDIUM: Severity.MEDIUM,
    Rating.LOW: Severity.LOW,
    Rating.NONE: Severity.INFORMATIONAL,
    Rating.INFORMATIONAL: Severity.INFORMATIONAL,
    Rating.UNDEFINED: Severity.UNDEFINED,
}


def advisory_url(vuln_id: str) -> str:
    if vuln_id.startswith("CVE-"):
        return f"https://nvd.nist.gov/vuln/detail/{vuln_id}"
    return f"https://osv.dev/vulnerability/{vuln_id}"


def report_findings(images: Iterable[ImageInventory], store: AdvisoryLookup) -> list[Finding]:
    """Every finding of every image (OS and language packages), worst first."""
    out = [
        Finding(
            vulnerability_id=f.vuln_id,
            severity=_SEVERITY[f.advisory.severity],
            package=f.target.package,
            image=image.manifest_digest,
            fixed_version=f.fixed_in if f.fix is FixState.FIXED else "",
            title=f.advisory.summary,
            url=advisory_url(f.vuln_id),
        )
        for image in images
        for f in match_inventory(image.inventory, store, include_language=True)
    ]
    out.sort(key=lambda f: (-f.severity, f.vulnerability_id, f.package.name, f.package.path))
    return out
