"""Compact JSON encodings of advisories as stored in the DB file.

Two shapes: a *header* (the advisory without its packages, for `get`) and an *entry* (one
vulnerability on one package, several of which make up a package key's blob, for
`lookup`). Entries are positional arrays because `lookup` decodes them on the hot path.
"""

from __future__ import annotations

import zlib
from typing import Any

import orjson

from tidegate.scanner.severity import Severity
from tidegate.scanner.versions.base import AffectedRange, RangeEvent
from tidegate.scanner.versions.ranges import indexed_event
from tidegate.scanner.vulndb.model import (
    Advisory,
    AffectedPackage,
    Cvss,
    DistroSeverity,
    FixState,
)

_FIX = {f.value: f for f in FixState}
_RATING = {r.value: r for r in Severity}


def _event(ev: RangeEvent) -> list[Any]:
    kind, value = indexed_event(ev)
    # An event with no field set (kind -1) keeps its stored encoding, "introduced 0".
    return [kind, value] if kind >= 0 else [0, "0"]


def pack(doc: bytes) -> bytes:
    """A stored blob from encoded JSON (zlib level 1: half the file, microseconds to undo)."""
    return zlib.compress(doc, 1)


def unpack(blob: bytes) -> Any:
    """The JSON value of a stored blob."""
    return orjson.loads(zlib.decompress(blob))


def encode_ranges(ranges: tuple[AffectedRange, ...]) -> list[Any]:
    """Ranges as `[[type, [[event index, version], ...]], ...]`: the indexed shape
    `versions.ranges.evaluate_indexed` reads as it is."""
    return [[r.type, [_event(e) for e in r.events]] for r in ranges]


def _new_event(index: int, value: str) -> RangeEvent:
    if index == 0:
        return RangeEvent(value)
    if index == 1:
        return RangeEvent(None, value)
    if index == 2:
        return RangeEvent(None, None, value)
    return RangeEvent(None, None, None, value)


# Events are immutable and repeat across thousands of advisories ("introduced 0", the same
# fixed version for every binary of a source package), so decoding shares them.
_EVENT_CACHE: dict[tuple[int, str], RangeEvent] = {}
_CACHE_LIMIT = 200_000


def _event_of(index: int, value: str) -> RangeEvent:
    key = (index, value)
    ev = _EVENT_CACHE.get(key)
    if ev is None:
        if len(_EVENT_CACHE) > _CACHE_LIMIT:
            _EVENT_CACHE.clear()
        ev = _EVENT_CACHE[key] = _new_event(index, value)
    return ev


def decode_ranges(raw: list[Any]) -> tuple[AffectedRange, ...]:
    """Inverse of `encode_ranges`."""
    # List comprehensions, not generators: this is the innermost loop of an uncached lookup.
    cache = _EVENT_CACHE
    out = []
    for kind, evs in raw:
        events = []
        for i, v in evs:
            ev = cache.get((i, v))
            if ev is None:
                ev = _event_of(i, v)
            events.append(ev)
        out.append(AffectedRange(kind, tuple(events)))
    return tuple(out)


def encode_header(adv: Advisory) -> bytes:
    """The advisory without `affected`."""
    doc = {
        "id": adv.id,
        "source": adv.source,
        "aliases": adv.aliases,
        "related": adv.related,
        "summary": adv.summary,
        "details": adv.details,
        "published": adv.published,
        "modified": adv.modified,
        "severities": [[s.version, s.vector, s.score, s.source] for s in adv.severities],
        "distro": [adv.distro_severity.raw, adv.distro_severity.rating.value]
        if adv.distro_severity
        else None,
        "references": adv.references,
        "kev": adv.known_exploited,
        "severity": adv.severity.value,
        "score": adv.score,
        "sources": adv.sources,
    }
    return orjson.dumps(doc)


def decode_header(d: dict[str, Any]) -> Advisory:
    """Inverse of `encode_header` (with empty `affected`), from the decoded document."""
    distro = d.get("distro")
    return Advisory(
        id=d["id"],
        source=d["source"],
        aliases=tuple(d["aliases"]),
        related=tuple(d["related"]),
        summary=d["summary"],
        details=d["details"],
        published=d["published"],
        modified=d["modified"],
        severities=tuple(Cvss(ver, v, s, src) for ver, v, s, src in d["severities"]),
        distro_severity=DistroSeverity(distro[0], _RATING[distro[1]]) if distro else None,
        references=tuple(d["references"]),
        known_exploited=d["kev"],
        severity=_RATING[d["severity"]],
        score=d["score"],
        sources=tuple(d["sources"]),
    )


def entry_row(adv: Advisory, pkg: AffectedPackage) -> list[Any]:
    """One vulnerability on one package, positionally:

    `[id, aliases, ranges, versions, fix, fixed_version, severity, score, kev, distro_raw,
    sources]`. The package's own rating (Debian urgency, per release) wins over the
    advisory's; `merge` replaces the severity of unrated entries by the CVSS band.
    """
    distro = pkg.rating or adv.distro_severity
    return [
        adv.id,
        list(adv.aliases),
        encode_ranges(pkg.ranges),
        list(pkg.versions),
        pkg.fix.value,
        pkg.fixed_version,
        (distro.rating.value if distro else adv.severity.value),
        adv.score,
        adv.known_exploited,
        distro.raw if distro else None,
        list(adv.sources or (adv.source,)),
    ]


def decode_entry(namespace: str, name: str, row: list[Any]) -> Advisory:
    """An `entry_row` back as an Advisory whose `affected` is that one package."""
    vid, aliases, ranges, versions, fix, fixed, sev, score, kev, distro_raw, sources = row
    rating = _RATING[sev]
    distro = DistroSeverity(distro_raw, rating) if distro_raw else None
    pkg = AffectedPackage(
        namespace, name, decode_ranges(ranges), tuple(versions), _FIX[fix], fixed, distro
    )
    # Positional construction: this runs once per advisory on every uncached lookup.
    return Advisory(
        vid,
        sources[0] if sources else "",
        tuple(aliases),
        (),
        "",
        "",
        "",
        "",
        (),
        distro,
        (pkg,),
        (),
        kev,
        rating,
        score,
        tuple(sources),
    )
