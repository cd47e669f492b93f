"""OSV affected-range evaluation (the schema's IsVulnerable), with UNKNOWN for bad versions.

A version is affected when it is listed in `versions` or lies in any range. A range whose
versions cannot be parsed cannot say "not affected", so it makes the verdict UNKNOWN
unless another range or the `versions` list already says AFFECTED.

The one evaluation works on *indexed events*, `(kind, version)` pairs whose kind is an index
into `EVENT_KINDS`: the vulnerability DB stores ranges in that shape, so the matcher
evaluates stored entries without building `RangeEvent` objects first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tidegate.scanner.versions.base import (
    AffectedRange,
    InvalidVersion,
    RangeEvent,
    Verdict,
    VersionScheme,
)
from tidegate.scanner.versions.schemes import SEMVER

EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")
INTRODUCED, FIXED, LAST_AFFECTED, LIMIT = range(4)

IndexedEvent = tuple[int, str]
IndexedRange = tuple[str, Sequence[IndexedEvent]]  # (range type, events)

# "introduced": "0" sorts before every version; a limit containing "*" is infinity.
_LOWEST: tuple[object, ...] = (0,)


def indexed_event(event: RangeEvent) -> IndexedEvent:
    """`event` as `(kind index, version)`; an event with no field set has kind -1."""
    for index, kind in enumerate(EVENT_KINDS):
        value = getattr(event, kind)
        if value is not None:
            return index, value
    return -1, ""


def indexed_ranges(ranges: Iterable[AffectedRange]) -> list[IndexedRange]:
    """`ranges` in the indexed shape `evaluate_indexed` reads."""
    return [(r.type, [indexed_event(e) for e in r.events]) for r in ranges]


def _in_range(
    scheme: VersionScheme, events: Sequence[IndexedEvent], key: tuple[object, ...]
) -> Verdict:
    """Where `key` (the installed version's `(1, scheme key)`) lies in one range."""
    # Shortcuts for the shapes most stored ranges have; the general walk below agrees with
    # each (tests/property/test_ranges_evaluate.py).
    if len(events) == 2:
        (k0, v0), (k1, v1) = events
        if k0 == INTRODUCED and v0 == "0" and k1 == FIXED:
            return Verdict.AFFECTED if key < (1, scheme.key(v1)) else Verdict.NOT_AFFECTED
    elif len(events) == 1 and events[0][0] == INTRODUCED:
        value = events[0][1]
        if value == "0" or key >= (1, scheme.key(value)):
            return Verdict.AFFECTED
        return Verdict.NOT_AFFECTED
    limits = []
    timeline = []
    for position, (kind, value) in enumerate(events):
        if kind == LIMIT:
            limits.append(value)
        elif INTRODUCED <= kind <= LAST_AFFECTED:
            at = _LOWEST if kind == INTRODUCED and value == "0" else None
            timeline.append((at, position, kind, value))
        else:
            raise InvalidVersion("empty range event")
    if limits and not any("*" in lim or key < (1, scheme.key(lim)) for lim in limits):
        return Verdict.NOT_AFFECTED
    ordered = sorted(
        ((at if at is not None else (1, scheme.key(value))), position, kind)
        for at, position, kind, value in timeline
    )
    affected = False
    for at, _, kind in ordered:
        if kind == INTRODUCED:
            if key >= at:
                affected = True
        elif (kind == FIXED and key >= at) or (kind == LAST_AFFECTED and key > at):
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


class Installed:
    """An installed version, parsed once for evaluating it against many ranges."""

    __slots__ = ("_semver", "_semver_parsed", "key", "scheme", "version")

    def __init__(self, scheme: VersionScheme, version: str) -> None:
        self.scheme = scheme
        self.version = version
        self.key = _version_key(scheme, version)
        self._semver: tuple[object, ...] | None = None
        self._semver_parsed = False  # SEMVER ranges are rare: parse on first need

    def semver_key(self) -> tuple[object, ...] | None:
        """The version's key under SemVer 2.0.0 (SEMVER ranges), None if it is not one."""
        if not self._semver_parsed:
            self._semver = _version_key(SEMVER, self.version)
            self._semver_parsed = True
        return self._semver


def _version_key(scheme: VersionScheme, version: str) -> tuple[object, ...] | None:
    try:
        return (1, scheme.key(version))
    except InvalidVersion:
        return None


def evaluate_indexed(
    installed: Installed, ranges: Iterable[IndexedRange], versions: Sequence[str]
) -> Verdict:
    """`evaluate` over ranges whose events are `(kind index, version)` pairs."""
    scheme, version = installed.scheme, installed.version
    if versions and _listed(scheme, versions, version):
        return Verdict.AFFECTED
    key = installed.key
    unknown = key is None
    for kind, events in ranges:
        if kind == "ECOSYSTEM":
            used, at = scheme, key
        elif kind == "SEMVER":
            used, at = SEMVER, installed.semver_key()
        elif kind == "GIT":
            continue
        else:
            unknown = True
            continue
        if at is None:
            unknown = True
            continue
        try:
            verdict = _in_range(used, events, at)
        except InvalidVersion:
            verdict = Verdict.UNKNOWN
        if verdict is Verdict.AFFECTED:
            return verdict
        unknown = unknown or verdict is Verdict.UNKNOWN
    return Verdict.UNKNOWN if unknown else Verdict.NOT_AFFECTED


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
    return evaluate_indexed(Installed(scheme, version), indexed_ranges(ranges), versions)
