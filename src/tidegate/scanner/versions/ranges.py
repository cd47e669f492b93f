"""OSV affected-range evaluation (the schema's IsVulnerable), with UNKNOWN for bad versions.

A version is affected when it is listed in `versions` or lies in any range. A range whose
versions cannot be parsed cannot say "not affected", so it makes the verdict UNKNOWN
unless another range or the `versions` list already says AFFECTED.
"""

from __future__ import annotations

from collections.abc import Sequence

from tidegate.scanner.versions.base import (
    AffectedRange,
    InvalidVersion,
    RangeEvent,
    Verdict,
    VersionScheme,
)
from tidegate.scanner.versions.schemes import SEMVER

# "introduced": "0" sorts before every version; a limit containing "*" is infinity.
_LOWEST: tuple[object, ...] = (0,)


def _event_kind(event: RangeEvent) -> tuple[str, str]:
    for kind in ("introduced", "fixed", "last_affected", "limit"):
        value = getattr(event, kind)
        if value is not None:
            return kind, value
    raise InvalidVersion("empty range event")


def _sort_key(scheme: VersionScheme, kind: str, value: str) -> tuple[object, ...]:
    if kind == "introduced" and value == "0":
        return _LOWEST
    return (1, scheme.key(value))


def _before_limits(scheme: VersionScheme, key: tuple[object, ...], limits: list[str]) -> bool:
    if not limits:
        return True
    return any("*" in lim or key < (1, scheme.key(lim)) for lim in limits)


def _in_range(scheme: VersionScheme, rng: AffectedRange, version: str) -> Verdict:
    try:
        key = (1, scheme.key(version))
        events = [_event_kind(e) for e in rng.events]
        limits = [value for kind, value in events if kind == "limit"]
        if not _before_limits(scheme, key, limits):
            return Verdict.NOT_AFFECTED
        timeline = sorted(
            (_sort_key(scheme, kind, value), index, kind)
            for index, (kind, value) in enumerate(events)
            if kind != "limit"
        )
    except InvalidVersion:
        return Verdict.UNKNOWN
    affected = False
    for at, _, kind in timeline:
        if kind == "introduced" and key >= at:
            affected = True
        elif (kind == "fixed" and key >= at) or (kind == "last_affected" and key > at):
            affected = False
    return Verdict.AFFECTED if affected else Verdict.NOT_AFFECTED


def _listed(scheme: VersionScheme, versions: Sequence[str], version: str) -> bool:
    if version in versions:
        return True
    try:
        key = scheme.key(version)
    except InvalidVersion:
        return False
    for listed in versions:
        try:
            if scheme.key(listed) == key:
                return True
        except InvalidVersion:
            # An unparsable entry can only be equal by spelling, checked above.
            continue
    return False


def evaluate(
    scheme: VersionScheme,
    ranges: Sequence[AffectedRange],
    versions: Sequence[str],
    version: str,
) -> Verdict:
    """Evaluate one OSV `affected` entry for `version` in `scheme` (ECOSYSTEM ranges).

    SEMVER ranges use SemVer 2.0.0 whatever the ecosystem; GIT ranges name commits and
    are skipped; a range of any other type is UNKNOWN. An unparsable installed version is
    UNKNOWN unless `versions` lists it verbatim or a SEMVER range can still place it.
    """
    if _listed(scheme, versions, version):
        return Verdict.AFFECTED
    unknown = False
    try:
        scheme.key(version)
    except InvalidVersion:
        unknown = True
    for rng in ranges:
        if rng.type == "GIT":
            continue
        if rng.type == "SEMVER":
            verdict = _in_range(SEMVER, rng, version)
        elif rng.type == "ECOSYSTEM":
            verdict = _in_range(scheme, rng, version)
        else:
            verdict = Verdict.UNKNOWN
        if verdict is Verdict.AFFECTED:
            return verdict
        unknown = unknown or verdict is Verdict.UNKNOWN
    return Verdict.UNKNOWN if unknown else Verdict.NOT_AFFECTED
