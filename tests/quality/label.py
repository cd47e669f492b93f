"""The labelling tool: expected findings per gate image, derived without Tidegate's matcher.

    python -m tests.quality.label [IMAGE ...]   # writes tests/quality/labels/<image>.json

It reads the RAW feed records in the shared mirror (OSV JSON/YAML straight out of the
tarballs) and decides "affected" with the ecosystems' own version comparators as oracles:
`dpkg --compare-versions`, rpm's `labelCompare` (Debian python3-rpm), PyPA `packaging`, npm's
`semver`, Maven's `ComparableVersion`, RubyGems' `Gem::Version`, `golang.org/x/mod/semver`
(tests/property/oracle.py drives them). The inventory it labels is the real tools' own
(tests/quality/images.py). Nothing from `tidegate` is imported, so a matcher bug cannot leak
into the labels.

Rules, per the issue: a label is (vulnerability, package, installed version, severity, fix
state). Severity is the feed's own rating (Debian urgency: unimportant -> INFORMATIONAL, a
trailing `*` or "not yet assigned" falls back; AlmaLinux's summary prefix; GitHub's
database_specific.severity), else the CVSS base score on the NVD scale (v3.x, then v4, v2
last), else UNDEFINED. The vector is the label's own records', else that of a record whose id
is one of the label's ids in any feed the gate reads (the CVE's own record first: osv.dev's
Debian CVE records carry NVD's vector; a Go advisory carries none), else one that lists the
label's ids as aliases. Fix state is "fixed" with the fixed version when the range that holds the
installed version has a fixed event, else "affected" (no fix yet). One label carries every
id its records alias (CVE, GHSA, PYSEC, GO, ALSA), so the gate accepts whichever id the
scanner reports; labels are one vulnerability when they share a CVE (an advisory id that
several CVEs share, as an ALSA fixing five CVEs, joins nothing: that is five labels).
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cvss  # type: ignore[import-untyped]
import yaml
from packaging.version import InvalidVersion, Version

from tests.property import oracle as oracles
from tests.quality import images
from tests.support.paths import VULNDATA

LABELS = Path(__file__).resolve().parent / "labels"
Cmp = Callable[[str, str], int]

# image -> (Debian OSV ecosystem of its dpkg packages, AlmaLinux ecosystem of its rpms)
DEBIAN_RELEASE = {
    "debian12-pypi": "Debian:12",
    "debian12-ruby": "Debian:12",
    "distroless": "Debian:12",
    "debian11": "Debian:11",
}
ALMA_RELEASE = {"rpm-alma9": "AlmaLinux:9"}
URGENCY = {"unimportant": "INFORMATIONAL", "low": "LOW", "medium": "MEDIUM", "high": "HIGH"}
VENDOR = {"critical": "CRITICAL", "important": "HIGH", "high": "HIGH", "moderate": "MEDIUM",
          "medium": "MEDIUM", "low": "LOW"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Installed:
    """One installed package as the real tool lists it; `match_*` is what feeds key it by."""

    ecosystem: str  # Debian, AlmaLinux, PyPI, npm, Maven, RubyGems, Go
    name: str
    version: str
    match_name: str
    match_version: str


@dataclass(slots=True)
class Label:
    ids: set[str]
    ecosystem: str
    package: str
    version: str
    severity: str
    fix_state: str
    fixed_version: str
    sources: set[str] = field(default_factory=set)

    def record(self) -> dict[str, Any]:
        cves = sorted(i for i in self.ids if i.startswith("CVE-"))
        ghsa = sorted(i for i in self.ids if i.startswith("GHSA-"))
        primary = (cves if len(cves) == 1 else ghsa or sorted(self.ids))[0]
        return {
            "id": primary,
            "ids": sorted(self.ids),
            "ecosystem": self.ecosystem,
            "package": self.package,
            "version": self.version,
            "severity": self.severity,
            "fixState": self.fix_state,
            "fixedVersion": self.fixed_version,
            "sources": sorted(self.sources),
        }


# --- severity ---------------------------------------------------------------------------


def nvd_band(score: float) -> str:
    if score == 0:
        return "INFORMATIONAL"  # NVD's NONE, as ECR reports it
    return "LOW" if score < 4 else "MEDIUM" if score < 7 else "HIGH" if score < 9 else "CRITICAL"


def cvss_severity(record: dict[str, Any]) -> str | None:
    """The NVD band of the record's preferred CVSS vector: v3.x, then v4, v2 last (the
    issue's order; ECR rates by v3.x where a record has it)."""
    vectors = {s.get("type"): s.get("score", "") for s in record.get("severity") or []}
    for kind, make in (("CVSS_V3", cvss.CVSS3), ("CVSS_V4", cvss.CVSS4), ("CVSS_V2", cvss.CVSS2)):
        vector = vectors.get(kind)
        if not vector:
            continue
        try:
            obj = make(vector)
        except Exception:  # a malformed vector falls back, as the issue asks
            continue
        score = obj.base_score if kind == "CVSS_V4" else obj.scores()[0]
        return nvd_band(float(score))
    return None


class Bands:
    """CVSS bands of the records seen, by the record's own id and by the ids it aliases, for
    labels whose own records rate nothing."""

    def __init__(self) -> None:
        self.own: dict[str, str] = {}  # record id -> band of that record's vector
        self.aliased: dict[str, str] = {}  # id -> band of a record listing it as an alias
        self.seen: set[str] = set()  # record ids read, rated or not

    def note(self, record: dict[str, Any], band: str | None) -> None:
        self.seen.add(record["id"])
        if not band:
            return
        self.own.setdefault(record["id"], band)
        for alias in record.get("aliases") or []:
            self.aliased.setdefault(alias, band)

    def known(self) -> set[str]:
        return self.seen | self.own.keys() | self.aliased.keys()

    def read_all_feeds(self, ids: set[str]) -> None:
        """Note the records of every gate feed whose id or aliases are among `ids`."""
        if not ids:
            return
        needles = [f'"{i}"'.encode() for i in ids] + [f"id: {i}".encode() for i in ids]
        for rel in sorted({r for rels in FEEDS.values() for r in rels}, key=_cve_feed_first):
            for _member, record in tar_records(rel, lambda raw: any(n in raw for n in needles)):
                if not isinstance(record, dict) or "id" not in record:
                    continue
                if record["id"] in ids or ids & set(record.get("aliases") or []):
                    self.note(record, cvss_severity(record))

    def severity(self, ids: set[str]) -> str:
        """The CVE's own record first (NVD's vector), then the other ids' records, then a
        record that aliases one of them; UNDEFINED when none is rated."""
        ordered = sorted(_cves(ids)) + sorted(ids - _cves(ids))
        for table in (self.own, self.aliased):
            for i in ordered:
                if i in table:
                    return table[i]
        return "UNDEFINED"


def _cve_feed_first(rel: str) -> tuple[int, str]:
    return (0 if rel.startswith("debian-osv/") else 1, rel)


# --- feed reading -----------------------------------------------------------------------


def tar_records(rel: str, wanted: Callable[[bytes], bool]) -> Iterator[tuple[str, Any]]:
    """(member name, parsed record) of every JSON/YAML member whose raw bytes pass `wanted`."""
    with tarfile.open(VULNDATA / rel, "r:xz") as tar:
        for info in tar:
            if not info.isfile() or not info.name.endswith((".json", ".yaml")):
                continue
            fh = tar.extractfile(info)
            assert fh is not None
            raw = fh.read()
            if not wanted(raw):
                continue
            if info.name.endswith(".yaml"):
                yield info.name, yaml.safe_load(raw)
            else:
                yield info.name, json.loads(raw)


def mentions(names: set[str], *, fold: bool = False) -> Callable[[bytes], bool]:
    """A cheap pre-filter: the record's bytes contain one of the quoted package names.

    `fold` (PyPI) compares lower-cased, with `-`, `_` and `.` spellings of each name."""
    spelled = {n.replace("-", sep) for n in names for sep in "-_."} if fold else names
    needles = [f'"{n}"'.encode() for n in spelled] + [f"name: {n}".encode() for n in spelled]
    if fold:
        return lambda raw: any(n in raw.lower() for n in needles)
    return lambda raw: any(n in raw for n in needles)


# --- range evaluation ---------------------------------------------------------------------


def affected_by(version: str, events: list[dict[str, str]], cmp: Cmp) -> tuple[bool, str]:
    """OSV range semantics over one range's events: (affected, the fixed version if any).

    Events are ordered by the oracle (introduced "0" first); walking them in order, an
    `introduced` at or below the version opens, a `fixed` at or below (or a `last_affected`
    strictly below) closes."""

    def key(event: dict[str, str]) -> str:
        return next(iter(event.values()))

    real = [e for e in events if key(e) != "0"]
    ordered = [e for e in events if key(e) == "0"] + sorted(
        real,
        key=functools.cmp_to_key(lambda a, b: cmp(key(a), key(b))),  # type: ignore[arg-type]
    )
    affected, fixed = False, ""
    for event in ordered:
        kind, at = next(iter(event.items()))
        if kind == "introduced" and (at == "0" or cmp(version, at) >= 0):
            affected, fixed = True, ""
        elif kind == "fixed":
            if cmp(version, at) >= 0:
                affected = False
            elif affected and not fixed:
                fixed = at
        elif kind == "last_affected" and cmp(version, at) > 0:
            affected = False
    return affected, fixed if affected else ""


def evaluate(entry: dict[str, Any], version: str, cmp: Cmp, *, explicit: bool) -> tuple[bool, str]:
    """Whether one `affected[]` entry holds the version, and its fix."""
    fixed_any = ""
    hit = explicit and version in (entry.get("versions") or [])
    for rng in entry.get("ranges") or []:
        if rng.get("type") == "GIT":
            continue
        ok, fixed = affected_by(version, rng.get("events") or [], cmp)
        if ok:
            hit = True
            fixed_any = fixed_any or fixed
    if hit and not fixed_any:
        # a version listed explicitly: the fix is the range's fixed event above it, if any
        for rng in entry.get("ranges") or []:
            for event in rng.get("events") or []:
                if "fixed" in event and cmp(version, event["fixed"]) < 0:
                    fixed_any = fixed_any or event["fixed"]
    return hit, fixed_any


# --- comparators (the oracles) ------------------------------------------------------------


class Comparators:
    """One long-lived oracle process per ecosystem; every answer is memoised."""

    def __init__(self) -> None:
        self._procs: dict[str, oracles.LineOracle] = {}

    def _ask(self, name: str, make: Callable[[], oracles.LineOracle], *fields: str) -> str:
        if name not in self._procs:
            self._procs[name] = make()
        return self._procs[name].ask(*fields)

    @functools.cache  # noqa: B019 - one Comparators per run
    def compare(self, ecosystem: str, a: str, b: str) -> int:
        if ecosystem == "Debian":
            return oracles.dpkg_compare(a, b)
        if ecosystem == "PyPI":
            try:
                va, vb = Version(a), Version(b)
            except InvalidVersion:
                return (a > b) - (a < b)
            return (va > vb) - (va < vb)
        if ecosystem == "AlmaLinux":
            answer = self._ask("rpm", oracles.rpm_oracle, a, b)
        elif ecosystem == "npm":
            answer = self._ask("npm", oracles.node_semver_oracle, "C", a, b)
        elif ecosystem == "Maven":
            answer = self._ask("maven", oracles.maven_oracle, a, b)
        elif ecosystem == "RubyGems":
            answer = self._ask("gem", oracles.gem_oracle, a, b)
        elif ecosystem == "Go":
            answer = self._ask("go", oracles.go_oracle, "v" + a.lstrip("v"), "v" + b.lstrip("v"))
        else:
            raise ValueError(ecosystem)
        if answer == "INVALID":
            return (a > b) - (a < b)
        return int(answer)

    def close(self) -> None:
        for proc in self._procs.values():
            proc.close()


# --- inventories the feeds are matched against ----------------------------------------------


def pep503(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def debian_installed(admindir: Path) -> list[Installed]:
    out = images.run(
        "dpkg-query", "-W", f"--admindir={admindir}",
        "-f=${Package}\t${Version}\t${source:Package}\t${source:Version}\t${db:Status-Status}\n",
    )  # fmt: skip
    rows = [line.split("\t") for line in out.splitlines()]
    return [Installed("Debian", n, v, sn, sv) for n, v, sn, sv, s in rows if s == "installed"]


def installed(image: images.QualityImage) -> list[Installed]:
    """The image's packages from the real tools, keyed the way the feeds key them."""
    found: list[Installed] = []
    if image.name in DEBIAN_RELEASE:
        if image.name == "distroless":
            statusd = images.distroless_tree() / "var/lib/dpkg/status.d"
            with tempfile.TemporaryDirectory() as tmp:
                admin = Path(tmp, "dpkg")
                (admin / "info").mkdir(parents=True)
                parts = [p.read_text() for p in sorted(statusd.iterdir())]
                (admin / "status").write_text("\n".join(parts))
                found += debian_installed(admin)
        else:
            root = {"debian11": images.bullseye(), "debian12-ruby": images.ruby_rootfs()}.get(
                image.name, images.bookworm()
            )
            found += debian_installed(root / "var/lib/dpkg")
    for eco, name, version in sorted(image.truth()):
        if eco == "Debian":
            continue
        if eco == "AlmaLinux":
            evr = version
            found.append(Installed(eco, name, evr.split(":", 1)[-1], name, evr))
        elif eco == "PyPI":
            found.append(Installed(eco, name, version, pep503(name), version))
        else:
            found.append(Installed(eco, name, version, name, version))
    return found


# --- the labelling ------------------------------------------------------------------------

FEEDS = {
    "Debian": ["debian-osv/debian-osv.tar.xz"],
    "AlmaLinux": ["almalinux-osv/almalinux-osv.tar.xz"],
    "PyPI": ["pypa-osv/pypa-advisory-database.tar.xz", "ghsa/ghsa-pip.tar.xz"],
    "npm": ["ghsa/ghsa-npm.tar.xz"],
    "Maven": ["ghsa/ghsa-maven.tar.xz"],
    "RubyGems": ["ghsa/ghsa-rubygems.tar.xz"],
    "Go": ["go-vulndb-osv/go-vulndb-osv.tar.xz"],
}


def _ecosystem_matches(eco: str, osv_eco: str, image: str) -> bool:
    if eco == "Debian":
        return osv_eco == DEBIAN_RELEASE[image]
    if eco == "AlmaLinux":
        return osv_eco == ALMA_RELEASE[image]
    return osv_eco == eco


def _feed_name(eco: str, entry_name: str) -> str:
    return pep503(entry_name) if eco == "PyPI" else entry_name


def _cves(ids: set[str]) -> set[str]:
    return {i for i in ids if i.startswith("CVE-")}


def _label_ids(record: dict[str, Any], eco: str) -> list[set[str]]:
    """The id sets of the vulnerabilities one record describes: its own id and aliases, or
    for an advisory fixing CVEs (an ALSA) one set per CVE, each carrying the advisory id, so
    that whichever id the scanner names a finding by is accepted."""
    ids = {record["id"], *(record.get("aliases") or [])}
    if eco == "AlmaLinux" and not record["id"].startswith("CVE-"):
        cves = _cves(ids | set(record.get("related") or []))
        if cves:
            return [{cve, *(ids - _cves(ids))} for cve in sorted(cves)]
    return [ids]


def _names_cves(record: dict[str, Any]) -> bool:
    ids = [*(record.get("related") or []), *(record.get("aliases") or []),
           *(record.get("upstream") or [])]  # fmt: skip
    return any(str(i).startswith("CVE-") for i in ids)


def _severity(record: dict[str, Any], eco: str, entry: dict[str, Any]) -> str | None:
    """The feed's own rating for this entry, or None to fall back to CVSS."""
    if eco == "Debian":
        urgency = str((entry.get("ecosystem_specific") or {}).get("urgency", ""))
        return URGENCY.get(urgency)  # "low*", "not yet assigned", unknown: fall back
    if eco == "AlmaLinux":
        prefix = str(record.get("summary", "")).partition(":")[0].strip().lower()
        return VENDOR.get(prefix)
    rating = (record.get("database_specific") or {}).get("severity")
    return VENDOR.get(str(rating).lower()) if rating else None


def label_image(image: images.QualityImage, comparators: Comparators) -> dict[str, Any]:
    packages = installed(image)
    by_eco: dict[str, dict[str, list[Installed]]] = {}
    for pkg in packages:
        by_eco.setdefault(pkg.ecosystem, {}).setdefault(pkg.match_name, []).append(pkg)
    labels: dict[tuple[str, str, str, str], Label] = {}
    bands = Bands()
    for eco, names in sorted(by_eco.items()):
        cmp = functools.partial(comparators.compare, eco)
        for rel in FEEDS[eco]:
            source = rel.split("/")[-1].removesuffix(".tar.xz")
            for member, record in tar_records(rel, mentions(set(names), fold=eco == "PyPI")):
                if eco == "Debian" and "/CVE/" not in member and _names_cves(record):
                    continue  # a DSA/DLA/DTSA's CVEs are labelled from their own records
                if record.get("withdrawn") or str(record.get("summary", "")).startswith(
                    "Withdrawn"
                ):
                    continue  # the feed itself retracted it
                id_sets = _label_ids(record, eco)
                band = cvss_severity(record)
                bands.note(record, band)
                for entry in record.get("affected") or []:
                    pkg_info = entry.get("package") or {}
                    if not _ecosystem_matches(eco, pkg_info.get("ecosystem", ""), image.name):
                        continue
                    for pkg in names.get(_feed_name(eco, pkg_info.get("name", "")), []):
                        hit, fixed = evaluate(
                            entry, pkg.match_version, cmp, explicit=eco not in ("Debian",)
                        )
                        if not hit:
                            continue
                        own = _severity(record, eco, entry)
                        for ids in id_sets:
                            _add(labels, ids, pkg, own or band or "", fixed, source, bool(own))
    # records of one vulnerability in two feeds (PYSEC + GHSA) become one label
    merged = _merge(labels.values())
    unrated = {i for lab in merged if not lab.severity for i in lab.ids}
    bands.read_all_feeds(unrated - bands.known())
    for lab in merged:
        if not lab.severity:
            lab.severity = bands.severity(lab.ids)
    out = [lab.record() for lab in merged]
    inventory = sorted([p.ecosystem, p.name, p.version] for p in packages)
    return {
        "image": image.name,
        "description": image.description,
        "generated_by": "python -m tests.quality.label " + image.name,
        "inventory": [list(row) for row in sorted({tuple(r) for r in inventory})],
        "labels": sorted(out, key=lambda r: (r["ecosystem"], r["package"], r["version"], r["id"])),
    }


_OWN = "__own__"


def _add(
    labels: dict[tuple[str, str, str, str], Label],
    ids: set[str],
    pkg: Installed,
    severity: str,
    fixed: str,
    source: str,
    own: bool,
) -> None:
    lab = Label(set(ids), pkg.ecosystem, pkg.name, pkg.version, severity,
                "fixed" if fixed else "affected", fixed, {source})  # fmt: skip
    if own:
        lab.sources.add(_OWN)
    key = (pkg.ecosystem, pkg.name, pkg.version, min(_cves(ids) or ids))
    labels[key] = _combine(labels[key], lab) if key in labels else lab


def _combine(a: Label, b: Label) -> Label:
    """One vulnerability from two records: the union of ids; the feed's own rating wins."""
    a_own, b_own = _OWN in a.sources, _OWN in b.sources
    severity = a.severity if (a_own or not b_own) and a.severity else b.severity
    fixed = a.fixed_version or b.fixed_version
    return Label(a.ids | b.ids, a.ecosystem, a.package, a.version, severity,
                 "fixed" if fixed else "affected", fixed, a.sources | b.sources)  # fmt: skip


def _merge(labels: Any) -> list[Label]:
    groups: list[Label] = []
    for lab in labels:
        for other in [g for g in groups if _same(g, lab)]:
            groups.remove(other)
            lab = _combine(other, lab)
        groups.append(lab)
    for lab in groups:
        lab.sources.discard(_OWN)
    return groups


def _same(a: Label, b: Label) -> bool:
    """One vulnerability: a shared CVE; or, when one of them names no CVE, any shared id.
    Two CVEs sharing only an advisory id (a DLA, an ALSA) stay two vulnerabilities."""
    if (a.ecosystem, a.package, a.version) != (b.ecosystem, b.package, b.version):
        return False
    a_cves, b_cves = _cves(a.ids), _cves(b.ids)
    return bool(a_cves & b_cves) if a_cves and b_cves else bool(a.ids & b.ids)


def write(name: str, doc: dict[str, Any]) -> Path:
    LABELS.mkdir(exist_ok=True)
    path = LABELS / f"{name}.json"
    path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.quality.label", description=__doc__)
    parser.add_argument("images", nargs="*", help="image names (default: all)")
    args = parser.parse_args(argv)
    names = args.images or [img.name for img in images.IMAGES]
    comparators = Comparators()
    try:
        for name in names:
            doc = label_image(images.BY_NAME[name], comparators)
            path = write(name, doc)
            count = f"{len(doc['inventory'])} packages, {len(doc['labels'])} labels"
            print(f"{name}: {count} -> {path}")
    finally:
        comparators.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
