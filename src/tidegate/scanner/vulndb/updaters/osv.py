"""OSV records (JSON or YAML) from any source: debian-osv, AlmaLinux, PyPA, Go, RustSec, GHSA."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from tidegate.scanner.versions.base import AffectedRange, RangeEvent
from tidegate.scanner.versions.ranges import EVENT_KINDS
from tidegate.scanner.vulndb.fetch import fetch_location
from tidegate.scanner.vulndb.model import (
    Advisory,
    AffectedPackage,
    DistroSeverity,
    FixState,
    Rating,
    Severity,
    normalize_name,
)
from tidegate.scanner.vulndb.updaters.base import Fingerprint, Member, Payload, Skipped
from tidegate.scanner.vulndb.updaters.common import (
    MalformedRecord,
    cvss_severity,
    fan_out_by_cve,
    guarded,
    load_json,
    obj,
    opt_str,
    req_str,
    str_list,
)

# Everything-is-a-string loading: "1.10" must stay a version, not become the float 1.1.
_YAML_LOADER = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
_RANGE_TYPES = ("ECOSYSTEM", "SEMVER")  # GIT ranges name commits, useless for packages
# AlmaLinux puts Red Hat's rating only in the summary prefix ("Important: libwebp ...").
_RH_RATINGS = {
    "critical": Rating.CRITICAL,
    "important": Rating.HIGH,
    "moderate": Rating.MEDIUM,
    "low": Rating.LOW,
}


def parse_event(raw: object) -> RangeEvent:
    """One OSV range event; exactly one known key."""
    ev = obj(raw, "range event")
    found = [(k, ev[k]) for k in EVENT_KINDS if k in ev]
    if len(found) != 1 or not isinstance(found[0][1], str):
        msg = f"range event must have exactly one of {EVENT_KINDS}"
        raise MalformedRecord(msg)
    key, value = found[0]
    return RangeEvent(**{key: value})


def parse_affected(raw: object) -> AffectedPackage | None:
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
    return AffectedPackage(
        namespace=namespace,
        name=name,
        ranges=tuple(ranges),
        versions=versions,
        fix=FixState.FIXED if fixed else FixState.NOT_FIXED,
        fixed_version=", ".join(dict.fromkeys(fixed)) or None,
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


def parse_osv(doc_raw: object, source: str) -> Advisory | None:
    """An OSV record as an Advisory; None for withdrawn records."""
    doc = obj(doc_raw, "record")
    if doc.get("withdrawn") or _ghsa_withdrawn(doc):
        return None
    severities: list[Severity] = []
    for sev_raw in doc.get("severity") or ():
        sev = obj(sev_raw, "severity")
        if req_str(sev, "type").startswith("CVSS"):
            severities.append(cvss_severity(req_str(sev, "score")))
    refs = tuple(opt_str(obj(r, "reference"), "url") for r in doc.get("references") or () if r)
    affected = doc.get("affected") or []
    if not isinstance(affected, list):
        msg = "'affected' is not a list"
        raise MalformedRecord(msg)
    entries = tuple(a for a in (parse_affected(x) for x in affected) if a is not None)
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
        affected=entries,
        references=tuple(r for r in refs if r),
    )


def redhat_rating(summary: str) -> DistroSeverity | None:
    """AlmaLinux/Red Hat rating from a summary such as `Important: libwebp security update`."""
    head, sep, _ = summary.partition(":")
    rating = _RH_RATINGS.get(head.strip().lower()) if sep else None
    return DistroSeverity(head.strip(), rating) if rating else None


@dataclass
class OsvUpdater:
    """OSV records from a directory, archive or URL.

    `id_prefix` keeps only some records (GHSA-* from osv.dev's mixed exports); `fan_out`
    splits distro advisories (DSA, DLA, ALSA) into one advisory per CVE; `summary_rating`
    reads AlmaLinux's rating from the summary.
    """

    name: str
    location: str
    download_dir: Path
    id_prefix: str = ""
    fan_out: bool = False
    summary_rating: bool = False

    def fetch(self, prior: Fingerprint | None, http: httpx.Client) -> tuple[Payload, Fingerprint]:
        """Fetch the location; see `fetch_location`."""
        return fetch_location(self.location, prior, http, self.download_dir)

    def parse(self, payload: Payload) -> Iterator[Advisory | Skipped]:
        """One advisory per record file (more with `fan_out`), skipping malformed ones."""
        for member in payload.members():
            lower = member.path.lower()
            if lower.endswith(".json"):
                yield from guarded(member, self._records(member, yaml_=False))
            elif lower.endswith((".yaml", ".yml")):
                yield from guarded(member, self._records(member, yaml_=True))

    def _records(self, member: Member, *, yaml_: bool) -> Iterator[Advisory]:
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
        adv = parse_osv(doc, self.name)
        if adv is None:
            return
        if self.summary_rating:
            adv = _with_rating(adv)
        yield from (fan_out_by_cve(adv) if self.fan_out else (adv,))


def _with_rating(adv: Advisory) -> Advisory:
    return dataclasses.replace(adv, distro_severity=redhat_rating(adv.summary))
