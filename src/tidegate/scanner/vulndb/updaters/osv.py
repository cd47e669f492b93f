"""OSV records (JSON or YAML) from any source: debian-osv, AlmaLinux, PyPA, Go, RustSec, GHSA."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from tidegate.scanner.severity import Vendor
from tidegate.scanner.versions.base import AffectedRange, RangeEvent
from tidegate.scanner.versions.ranges import EVENT_KINDS
from tidegate.scanner.vulndb.fetch import fetch_location
from tidegate.scanner.vulndb.model import (
    Advisory,
    AffectedPackage,
    Cvss,
    DistroSeverity,
    FixState,
    normalize_name,
)
from tidegate.scanner.vulndb.updaters.base import Fingerprint, Member, Parsed, Payload
from tidegate.scanner.vulndb.updaters.common import (
    Faults,
    MalformedRecord,
    cvss_entry,
    fan_out_by_cve,
    guarded,
    load_json,
    obj,
    opt_str,
    req_str,
    str_list,
    vendor_rating,
    with_faults,
)

# Everything-is-a-string loading: "1.10" must stay a version, not become the float 1.1.
_YAML_LOADER = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
_RANGE_TYPES = ("ECOSYSTEM", "SEMVER")  # GIT ranges name commits, useless for packages
_RH_WORDS = ("critical", "important", "moderate", "low")


def parse_event(raw: object) -> RangeEvent:
    """One OSV range event; exactly one known key."""
    ev = obj(raw, "range event")
    found = [(k, ev[k]) for k in EVENT_KINDS if k in ev]
    if len(found) != 1 or not isinstance(found[0][1], str):
        msg = f"range event must have exactly one of {EVENT_KINDS}"
        raise MalformedRecord(msg)
    key, value = found[0]
    return RangeEvent(**{key: value})


def _debian_urgency(
    entry: Mapping[str, Any], namespace: str, faults: Faults
) -> tuple[DistroSeverity | None, bool]:
    """Debian's urgency of one `Debian:N` entry, and whether it says end-of-life."""
    if not namespace.startswith("Debian:"):
        return None, False
    specific = entry.get("ecosystem_specific")
    urgency = specific.get("urgency") if isinstance(specific, Mapping) else None
    if not isinstance(urgency, str):
        return None, False
    eol = urgency.strip().lower() == "end-of-life"
    return vendor_rating(Vendor.DEBIAN, urgency, faults), eol


def parse_affected(raw: object, faults: Faults | None = None) -> AffectedPackage | None:
    """One `affected[]` entry, or None when it has no usable range or version list."""
    entry = obj(raw, "affected entry")
    pkg = obj(entry.get("package") or {}, "affected.package")
    if not pkg.get("ecosystem") and not pkg.get("name"):
        return None  # OSV allows package-less entries that carry only GIT ranges
    namespace = req_str(pkg, "ecosystem")
    name = normalize_name(namespace, req_str(pkg, "name"))
    ranges: list[AffectedRange] = []
    for rng_raw in entry.get("ranges") or ():
        rng = obj(rng_raw, "range")
        kind = req_str(rng, "type")
        events = rng.get("events")
        if not isinstance(events, list) or not events:
            msg = "range without events"
            raise MalformedRecord(msg)
        if kind in _RANGE_TYPES:
            ranges.append(AffectedRange(kind, tuple(parse_event(e) for e in events)))
    versions = str_list(entry, "versions")
    if not ranges and not versions:
        return None
    fixed = [e.fixed for r in ranges for e in r.events if e.fixed]
    rating, eol = _debian_urgency(entry, namespace, [] if faults is None else faults)
    state = FixState.FIXED if fixed else FixState.END_OF_LIFE if eol else FixState.NOT_FIXED
    return AffectedPackage(
        namespace=namespace,
        name=name,
        ranges=tuple(ranges),
        versions=versions,
        fix=state,
        fixed_version=", ".join(dict.fromkeys(fixed)) or None,
        rating=rating,
    )


def _when(doc: Mapping[str, Any], key: str) -> str:
    value = doc.get(key)
    if value is not None and hasattr(value, "isoformat"):
        return str(value.isoformat())
    return opt_str(doc, key)


def _ghsa_withdrawn(doc: Mapping[str, Any]) -> bool:
    """GitHub marks withdrawn advisories in the summary too; some mirrors keep only that."""
    summary = doc.get("summary")
    return (
        str(doc.get("id", "")).startswith("GHSA-")
        and isinstance(summary, str)
        and summary.startswith("Withdrawn:")
    )


def _ghsa_rating(doc: Mapping[str, Any], faults: Faults) -> DistroSeverity | None:
    """GitHub's own rating, `database_specific.severity` of a GHSA record."""
    if not str(doc.get("id", "")).startswith("GHSA-"):
        return None
    specific = doc.get("database_specific")
    word = specific.get("severity") if isinstance(specific, Mapping) else None
    return vendor_rating(Vendor.GHSA, word, faults) if isinstance(word, str) else None


def parse_osv(
    doc_raw: object, source: str, faults: Faults | None = None, cvss_source: str = ""
) -> Advisory | None:
    """An OSV record as an Advisory; None for withdrawn records.

    `cvss_source` names who scored the record's vectors (osv.dev's Debian CVE records
    carry NVD's); unusable vectors and rating words are noted in `faults` and left out.
    """
    faults = [] if faults is None else faults
    doc = obj(doc_raw, "record")
    if doc.get("withdrawn") or _ghsa_withdrawn(doc):
        return None
    scorer = cvss_source or source.upper()
    severities: list[Cvss] = []
    for sev_raw in doc.get("severity") or ():
        sev = obj(sev_raw, "severity")
        if req_str(sev, "type").startswith("CVSS"):
            entry = cvss_entry(req_str(sev, "score"), scorer, faults)
            if entry is not None:
                severities.append(entry)
    refs = tuple(opt_str(obj(r, "reference"), "url") for r in doc.get("references") or () if r)
    affected = doc.get("affected") or []
    if not isinstance(affected, list):
        msg = "'affected' is not a list"
        raise MalformedRecord(msg)
    entries = tuple(a for a in (parse_affected(x, faults) for x in affected) if a is not None)
    return Advisory(
        id=req_str(doc, "id"),
        source=source,
        aliases=str_list(doc, "aliases"),
        related=str_list(doc, "related"),
        summary=opt_str(doc, "summary"),
        details=opt_str(doc, "details"),
        published=_when(doc, "published"),
        modified=_when(doc, "modified"),
        severities=tuple(severities),
        distro_severity=_ghsa_rating(doc, faults),
        affected=entries,
        references=tuple(r for r in refs if r),
    )


def redhat_rating(summary: str, faults: Faults | None = None) -> DistroSeverity | None:
    """AlmaLinux/Red Hat rating from a summary such as `Important: libwebp security update`.

    Only a known impact word before the colon counts: other summaries ("Security update:
    ...") carry no rating, so they are not faults.
    """
    head, sep, _ = summary.partition(":")
    if not sep or head.strip().lower() not in _RH_WORDS:
        return None
    return vendor_rating(Vendor.REDHAT, head, [] if faults is None else faults)


@dataclass
class OsvUpdater:
    """OSV records from a directory, archive or URL.

    `id_prefix` keeps only some records (GHSA-* from osv.dev's mixed exports); `fan_out`
    splits distro advisories (DSA, DLA, ALSA) into one advisory per CVE; `summary_rating`
    reads AlmaLinux's rating from the summary; `cvss_source` names who scored the vectors
    (default: the source's name).
    """

    name: str
    location: str
    download_dir: Path
    id_prefix: str = ""
    fan_out: bool = False
    summary_rating: bool = False
    cvss_source: str = ""

    def fetch(self, prior: Fingerprint | None, http: httpx.Client) -> tuple[Payload, Fingerprint]:
        """Fetch the location; see `fetch_location`."""
        return fetch_location(self.location, prior, http, self.download_dir)

    def parse(self, payload: Payload) -> Iterator[Parsed]:
        """One advisory per record file (more with `fan_out`), skipping malformed ones."""
        for member in payload.members():
            lower = member.path.lower()
            if lower.endswith((".json", ".yaml", ".yml")):
                faults: Faults = []
                records = self._records(member, faults, yaml_=not lower.endswith(".json"))
                yield from guarded(member, with_faults(member, faults, records))

    def _records(self, member: Member, faults: Faults, *, yaml_: bool) -> Iterator[Advisory]:
        if yaml_:
            try:
                doc = yaml.load(member.read(), Loader=_YAML_LOADER)  # noqa: S506 - BaseLoader builds no objects
            except yaml.YAMLError as exc:
                msg = f"invalid YAML: {exc}"
                raise MalformedRecord(msg) from exc
        else:
            doc = load_json(member)
        if (
            self.id_prefix
            and isinstance(doc, Mapping)
            and not str(doc.get("id", "")).startswith(self.id_prefix)
        ):
            return
        adv = parse_osv(doc, self.name, faults, self.cvss_source)
        if adv is None:
            return
        if self.summary_rating:
            adv = dataclasses.replace(adv, distro_severity=redhat_rating(adv.summary, faults))
        yield from (fan_out_by_cve(adv) if self.fan_out else (adv,))
