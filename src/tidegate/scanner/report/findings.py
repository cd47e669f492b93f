"""Matcher findings as report findings (the values every output format renders)."""

from __future__ import annotations

from collections.abc import Iterable

from tidegate.scanner.inventory import ImageInventory
from tidegate.scanner.match import AdvisoryLookup, match_inventory
from tidegate.scanner.match import Finding as Match
from tidegate.scanner.report.model import Finding
from tidegate.scanner.severity import preferred_score
from tidegate.scanner.vulndb.model import FixState


def advisory_url(vuln_id: str) -> str:
    if vuln_id.startswith("CVE-"):
        return f"https://nvd.nist.gov/vuln/detail/{vuln_id}"
    return f"https://osv.dev/vulnerability/{vuln_id}"


def rated_by(match: Match) -> str:
    """Who the finding's severity comes from: the feed with its own rating, else the
    scorer of the CVSS vector the rule used, else ""."""
    adv = match.advisory
    if adv.distro_severity is not None:
        return adv.source
    if adv.score is None:
        return ""
    scored = [(c.version, c.score) for c in adv.severities]
    best = preferred_score(scored)
    return next((c.source for c in adv.severities if c.score == best), "")


def report_findings(
    images: Iterable[ImageInventory], store: AdvisoryLookup, *, ignore_unfixed: bool = False
) -> list[Finding]:
    """Every finding of every image (OS and language packages), worst first.

    `ignore_unfixed` leaves out findings without a fixed version (Trivy's flag).
    """
    out = [
        Finding(
            vulnerability_id=f.vuln_id,
            severity=f.advisory.severity,
            package=f.target.package,
            image=image.manifest_digest,
            fixed_version=f.fixed_in if f.fix is FixState.FIXED else "",
            title=f.advisory.summary,
            url=advisory_url(f.vuln_id),
            fix_state=f.fix,
            vendor_severity=f.advisory.distro_severity.raw if f.advisory.distro_severity else "",
            rated_by=rated_by(f),
            cvss=f.advisory.severities,
        )
        for image in images
        for f in match_inventory(image.inventory, store, include_language=True)
        if not ignore_unfixed or f.fix is FixState.FIXED
    ]
    out.sort(key=lambda f: (-f.severity.rank, f.vulnerability_id, f.package.name, f.package.path))
    return out
