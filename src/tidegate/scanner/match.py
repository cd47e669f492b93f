"""Inventory + vulnerability DB -> findings: one per vulnerability per package, aliases merged.

OS packages are looked up by the distro release and the *source* package name where the
distro's feed is keyed that way (Debian, Ubuntu, Alpine); RPM distros by binary name.
Language packages by their ecosystem and normalised name. A version the scheme cannot
parse gives an UNKNOWN verdict, which is reported (never silently dropped).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from tidegate.scanner import distributions
from tidegate.scanner.model import Distro, Inventory, Package, PackageManager
from tidegate.scanner.versions import Verdict
from tidegate.scanner.vulndb.entries import PackageEntries
from tidegate.scanner.vulndb.merge import same_vulnerability
from tidegate.scanner.vulndb.model import Advisory, AffectedPackage, FixState, normalize_name


class AdvisoryLookup(Protocol):
    """The reads a matcher needs from the vulnerability DB (VulnStore implements them).

    `package` returns one key's lean stored entries, evaluated for the installed version;
    `header` the description, CVSS vectors and references, read only for what matched.
    """

    def package(self, namespace: str, name: str) -> PackageEntries: ...

    def header(self, vuln_id: str, aliases: Iterable[str] = ()) -> Advisory | None: ...


@dataclass(frozen=True, slots=True)
class MatchTarget:
    """A package with the advisory key and version it is matched under."""

    namespace: str
    name: str
    version: str
    package: Package


@dataclass(frozen=True, slots=True)
class Finding:
    """One vulnerability affecting one package of the image."""

    vuln_id: str
    aliases: tuple[str, ...]
    target: MatchTarget
    advisory: Advisory
    verdict: Verdict  # AFFECTED or UNKNOWN
    fix: FixState
    fixed_in: str


def distro_namespace(distro: Distro | None) -> str | None:
    """The advisory namespace of an OS release, or None when Tidegate has no feed for it."""
    return distributions.advisory_namespace(distro)


def os_packages_unchecked(inventory: Inventory, has_namespace: Callable[[str], bool]) -> str | None:
    """Why the image's OS packages were not matched (None: matched, or there are none)."""
    if not any(p.package_manager is PackageManager.OS for p in inventory.packages):
        return None
    return distributions.unchecked_reason(inventory.distro, has_namespace)


def targets(inventory: Inventory, *, include_language: bool) -> list[MatchTarget]:
    """Every package of the inventory under the key its advisories are stored with."""
    os_namespace = distro_namespace(inventory.distro)
    row = distributions.lookup(inventory.distro)
    source_keyed = row is not None and row.source_keyed
    out: list[MatchTarget] = []
    for pkg in inventory.packages:
        if pkg.package_manager is PackageManager.OS:
            if os_namespace is None:
                continue
            if source_keyed:
                name = pkg.source_name or pkg.name
                version = pkg.source_version or pkg.version
            else:
                name, version = pkg.name, pkg.version
            out.append(MatchTarget(os_namespace, name, version, pkg))
        elif include_language and pkg.version:
            out.append(
                MatchTarget(
                    pkg.ecosystem, normalize_name(pkg.ecosystem, pkg.name), pkg.version, pkg
                )
            )
    return out


def _fixed_in(entry: AffectedPackage) -> str:
    if entry.fixed_version:
        return entry.fixed_version
    fixed = [e.fixed for r in entry.ranges for e in r.events if e.fixed]
    return ", ".join(dict.fromkeys(fixed))


def match_target(target: MatchTarget, entries: PackageEntries) -> list[Finding]:
    """Findings for one package, with advisories about the same vulnerability merged."""
    found: list[Finding] = []
    for adv, verdict in entries.affecting(target.version):
        (entry,) = adv.affected
        found.append(
            Finding(
                vuln_id=adv.id,
                aliases=tuple(a for a in adv.aliases if a != adv.id),
                target=target,
                advisory=adv,
                verdict=verdict,
                fix=entry.fix,
                fixed_in=_fixed_in(entry),
            )
        )
    return _merge_aliases(found) if found else found


def _ids(finding: Finding) -> set[str]:
    return {finding.vuln_id, *finding.aliases}


def _preferred(group: Sequence[Finding]) -> Finding:
    """CVE ids name findings (what ECR and every distro tracker show), then AFFECTED wins."""

    def rank(f: Finding) -> tuple[int, int, str]:
        return (
            0 if f.vuln_id.startswith("CVE-") else 1,
            0 if f.verdict is Verdict.AFFECTED else 1,
            f.vuln_id,
        )

    return sorted(group, key=rank)[0]


def _merge_aliases(found: list[Finding]) -> list[Finding]:
    # The DB merged one package's records already; findings from two keys of one package
    # (or two stored ids of one vulnerability) are joined here by the same rule, so a
    # DSA/DLA/ALSA id that several CVEs carry as an alias never makes them one finding.
    groups = [
        (set().union(*(_ids(f) for f in group)), group) for group in same_vulnerability(found, _ids)
    ]
    out: list[Finding] = []
    for ids, group in groups:
        best = _preferred(group)
        cve_ids = sorted(i for i in ids if i.startswith("CVE-"))
        # One CVE among the aliases names the finding, as ECR and Inspector show it.
        vuln_id = cve_ids[0] if len(cve_ids) == 1 else best.vuln_id
        out.append(
            Finding(
                vuln_id, tuple(sorted(ids - {vuln_id})), best.target, best.advisory,
                best.verdict, best.fix, best.fixed_in,
            )
        )  # fmt: skip
    return out


def _enrich(found: list[Finding], store: AdvisoryLookup) -> list[Finding]:
    """Add the description, CVSS vectors and references of each matched vulnerability."""
    full: dict[str, Advisory | None] = {}
    out = []
    for f in found:
        if f.advisory.id not in full:
            full[f.advisory.id] = store.header(f.advisory.id, f.advisory.aliases)
        record = full[f.advisory.id]
        if record is None:
            out.append(f)
            continue
        advisory = replace(
            f.advisory,
            summary=record.summary,
            details=record.details,
            severities=record.severities,
            references=record.references,
            related=record.related,
            published=record.published,
            modified=record.modified,
        )
        out.append(replace(f, advisory=advisory))
    return out


def match_targets(targets_: Iterable[MatchTarget], store: AdvisoryLookup) -> list[Finding]:
    """Findings for many packages, sorted by vulnerability then package."""
    out: list[Finding] = []
    for target in targets_:
        out.extend(match_target(target, store.package(target.namespace, target.name)))
    out.sort(key=lambda f: (f.vuln_id, f.target.name, f.target.version, f.target.package.path))
    return _enrich(out, store)


def match_inventory(
    inventory: Inventory, store: AdvisoryLookup, *, include_language: bool = True
) -> list[Finding]:
    """Findings for the whole image: OS packages, plus language packages when asked."""
    return match_targets(targets(inventory, include_language=include_language), store)
