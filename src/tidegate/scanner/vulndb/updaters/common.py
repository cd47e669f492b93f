"""Helpers shared by the parsers: checked field access and CVE fan-out of distro advisories."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from typing import Any

import orjson

from tidegate.scanner.severity import InvalidVector, UnknownRating, Vendor, cvss_score
from tidegate.scanner.severity import vendor_severity as _vendor_severity
from tidegate.scanner.versions.base import AffectedRange, RangeEvent
from tidegate.scanner.vulndb.model import (
    Advisory,
    AffectedPackage,
    Cvss,
    DistroSeverity,
    FixState,
)
from tidegate.scanner.vulndb.updaters.base import Fallback, Member, Parsed, Skipped

CVE_RE = re.compile(r"CVE-\d{4}-\d{4,}")


class MalformedRecord(ValueError):
    """A record lacks a required field or has one of the wrong type; it is skipped."""


def load_json(member: Member) -> Any:
    """Parse a member as JSON; raises MalformedRecord."""
    try:
        return orjson.loads(member.read())
    except orjson.JSONDecodeError as exc:
        msg = f"invalid JSON: {exc}"
        raise MalformedRecord(msg) from exc


def obj(value: object, what: str) -> Mapping[str, Any]:
    """`value` if it is a JSON object, else MalformedRecord."""
    if not isinstance(value, Mapping):
        msg = f"{what} is not an object"
        raise MalformedRecord(msg)
    return value


def req_str(doc: Mapping[str, Any], key: str) -> str:
    """A required non-empty string field."""
    value = doc.get(key)
    if not isinstance(value, str) or not value:
        msg = f"missing or non-string {key!r}"
        raise MalformedRecord(msg)
    return value


def opt_str(doc: Mapping[str, Any], key: str) -> str:
    """An optional string field ("" when absent)."""
    value = doc.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        return str(value)
    return value


def str_list(doc: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """An optional list of strings."""
    value = doc.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        msg = f"{key!r} is not a list of strings"
        raise MalformedRecord(msg)
    return tuple(value)


Faults = list[str]  # why fields of the record being parsed fell back; see `Fallback`


def cvss_entry(vector: str, source: str, faults: Faults) -> Cvss | None:
    """A vector with its version and base score (PyPI `cvss`); None, and a fault noted,
    when the vector is malformed, so the rule falls back to another vector or unrated."""
    try:
        scored = cvss_score(vector)
    except InvalidVector as exc:
        faults.append(str(exc))
        return None
    return Cvss(scored.version, scored.vector, scored.base_score, source)


def vendor_rating(vendor: Vendor, raw: str, faults: Faults) -> DistroSeverity | None:
    """The feed's own rating word on the shared scale; None when the vendor has not rated
    it, or (with a fault noted) when the word is not in the vendor's vocabulary."""
    try:
        rating = _vendor_severity(vendor, raw)
    except UnknownRating as exc:
        faults.append(str(exc))
        return None
    return DistroSeverity(raw.strip(), rating) if rating is not None else None


def with_faults(member: Member, faults: Faults, items: Iterator[Advisory]) -> Iterator[Parsed]:
    """`items`, then one Fallback per fault the parser noted while producing them."""
    yield from items
    for reason in faults:
        yield Fallback(member.path, reason)
    faults.clear()


def fixed_at(namespace: str, name: str, version: str) -> AffectedPackage:
    """A distro feed's "fixed in `version`": affected from the start up to that version."""
    rng = AffectedRange("ECOSYSTEM", (RangeEvent(introduced="0"), RangeEvent(fixed=version)))
    return AffectedPackage(namespace, name, (rng,), (), FixState.FIXED, version)


def guarded(member: Member, items: Iterator[Parsed]) -> Iterator[Parsed]:
    """Yield from a per-record parser, turning MalformedRecord into Skipped."""
    try:
        yield from items
    except MalformedRecord as exc:
        yield Skipped(member.path, str(exc))


def fan_out_by_cve(adv: Advisory) -> Iterator[Advisory]:
    """A distro advisory (DSA, ALSA, ALAS ...) as one advisory per CVE it fixes.

    One finding per vulnerability needs CVE identity; the advisory id becomes an alias.
    Advisories that name no CVE are kept as they are.
    """
    cves = sorted({c for c in (*adv.related, *adv.aliases) if CVE_RE.fullmatch(c)})
    if CVE_RE.fullmatch(adv.id) or not cves:
        yield adv
        return
    for cve in cves:
        others = tuple(sorted({adv.id, *adv.aliases} - {cve}))
        yield dataclasses.replace(adv, id=cve, aliases=others, related=())
