"""Helpers shared by the parsers: checked field access and CVE fan-out of distro advisories."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from typing import Any

import orjson

from tidegate.scanner.versions.base import AffectedRange, RangeEvent
from tidegate.scanner.vulndb.cvss import score_or_none
from tidegate.scanner.vulndb.model import Advisory, AffectedPackage, FixState, Severity
from tidegate.scanner.vulndb.updaters.base import Member, Skipped

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


def cvss_severity(vector: str) -> Severity:
    """A Severity for a vector string, with the v3.x base score computed."""
    vector = vector.strip()
    kind = "CVSS_V3" if vector.startswith("CVSS:3") else "CVSS_V4"
    if vector.startswith("AV:"):
        kind = "CVSS_V2"
    return Severity(kind, vector, score_or_none(vector))


def fixed_at(namespace: str, name: str, version: str) -> AffectedPackage:
    """A distro feed's "fixed in `version`": affected from the start up to that version."""
    rng = AffectedRange("ECOSYSTEM", (RangeEvent(introduced="0"), RangeEvent(fixed=version)))
    return AffectedPackage(namespace, name, (rng,), (), FixState.FIXED, version)


def guarded(member: Member, items: Iterator[Advisory]) -> Iterator[Advisory | Skipped]:
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
