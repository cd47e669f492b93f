"""evaluate() against brute-force restatements of the OSV schema's evaluation."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from tidegate.scanner.versions import AffectedRange, RangeEvent, Verdict, evaluate, scheme_for

SETTINGS = settings(max_examples=300, deadline=None)
PYPI = scheme_for("PyPI")
VERSIONS = [str(n) for n in range(1, 15)]
KINDS = ("introduced", "fixed", "last_affected", "limit")


@dataclass(frozen=True, slots=True)
class Ev:
    """A generated event: kind and an integer version ("0" introduced is the lowest)."""

    kind: str
    at: int


def to_range(kind: str, events: list[Ev]) -> AffectedRange:
    return AffectedRange(kind, tuple(RangeEvent(**{e.kind: str(e.at)}) for e in events))


event = st.builds(Ev, st.sampled_from(KINDS[:3]), st.integers(min_value=1, max_value=14))
introduced_zero = st.just(Ev("introduced", 0))
events = st.lists(st.one_of(event, introduced_zero), min_size=1, max_size=6)
limits = st.lists(
    st.builds(Ev, st.just("limit"), st.integers(min_value=1, max_value=14)), max_size=2
)


def brute_in_range(events: list[Ev], limit_events: list[Ev], v: int) -> bool:
    """The state after all events is set by the last event that "fires" at v.

    An event fires when introduced <= v, fixed <= v or last_affected < v; events are
    processed in version order (input order among equal versions), so the last one to
    fire is the one with the greatest (version, position).
    """
    if limit_events and not any(v < e.at for e in limit_events):
        return False
    fired = [
        (e.at, i, e.kind)
        for i, e in enumerate(events)
        if (e.kind in ("introduced", "fixed") and e.at <= v)
        or (e.kind == "last_affected" and e.at < v)
    ]
    return bool(fired) and max(fired)[2] == "introduced"


@SETTINGS
@given(events, limits, st.integers(min_value=1, max_value=14))
def test_single_range_matches_brute_force(evs: list[Ev], lims: list[Ev], v: int) -> None:
    """OSV schema, Evaluation: "for evt in sorted(range.events): if evt.introduced is present
    && v >= evt.introduced: vulnerable = true; else if evt.fixed is present && v >=
    evt.fixed: vulnerable = false; else if evt.last_affected ... v > evt.last_affected"."""
    expected = Verdict.AFFECTED if brute_in_range(evs, lims, v) else Verdict.NOT_AFFECTED
    assert evaluate(PYPI, [to_range("ECOSYSTEM", evs + lims)], [], str(v)) is expected


@SETTINGS
@given(
    st.lists(st.tuples(events, limits), max_size=3),
    st.lists(st.sampled_from(VERSIONS), max_size=3),
    st.integers(min_value=1, max_value=14),
)
def test_ranges_and_versions_are_ored(
    ranges: list[tuple[list[Ev], list[Ev]]], versions: list[str], v: int
) -> None:
    """OSV schema: "A version is considered affected if it lies within any one of the
    ranges or is listed in the versions list"."""
    expected = str(v) in versions or any(brute_in_range(e, lim, v) for e, lim in ranges)
    built = [to_range("ECOSYSTEM", e + lim) for e, lim in ranges]
    assert evaluate(PYPI, built, versions, str(v)) is (
        Verdict.AFFECTED if expected else Verdict.NOT_AFFECTED
    )


@SETTINGS
@given(
    st.lists(st.tuples(st.integers(1, 14), st.integers(1, 14)), min_size=1, max_size=3),
    st.integers(min_value=1, max_value=14),
)
def test_introduced_fixed_pairs_are_half_open_intervals(
    pairs: list[tuple[int, int]], v: int
) -> None:
    """OSV schema, "Multiple range example": introduced/fixed pairs describe [introduced,
    fixed) intervals when the pairs do not overlap."""
    bounds = sorted({x for pair in pairs for x in pair})
    intervals = list(zip(bounds[0::2], bounds[1::2], strict=False))
    evs = [Ev(kind, at) for lo, hi in intervals for kind, at in (("introduced", lo), ("fixed", hi))]
    expected = any(lo <= v < hi for lo, hi in intervals)
    got = evaluate(PYPI, [to_range("ECOSYSTEM", evs)], [], str(v))
    assert got is (Verdict.AFFECTED if expected else Verdict.NOT_AFFECTED)


@SETTINGS
@given(
    st.integers(min_value=0, max_value=14),
    st.sampled_from(["fixed", "last_affected", "introduced", None]),
    st.integers(min_value=0, max_value=14),
    st.integers(min_value=1, max_value=14),
)
def test_short_ranges_match_brute_force(lo: int, kind: str | None, hi: int, v: int) -> None:
    """One- and two-event ranges ("introduced 0, fixed X" above all) take shortcuts in
    evaluation; every such shape still agrees with the schema's algorithm."""
    evs = [Ev("introduced", lo)] + ([Ev(kind, hi)] if kind else [])
    expected = Verdict.AFFECTED if brute_in_range(evs, [], v) else Verdict.NOT_AFFECTED
    assert evaluate(PYPI, [to_range("ECOSYSTEM", evs)], [], str(v)) is expected


@SETTINGS
@given(events, st.sampled_from(["", "not a version", "1.0-dev-x", "==1"]))
def test_unparsable_installed_version_is_never_not_affected(evs: list[Ev], bad: str) -> None:
    """Issue 4: "A version that cannot be parsed yields UNKNOWN, never 'not affected'"."""
    verdict = evaluate(PYPI, [to_range("ECOSYSTEM", evs)], [], bad)
    assert verdict is Verdict.UNKNOWN


@SETTINGS
@given(events, st.integers(min_value=0, max_value=len(KINDS) - 2), st.integers(1, 14))
def test_unparsable_event_is_never_not_affected(evs: list[Ev], where: int, v: int) -> None:
    """An event version we cannot order makes the range UNKNOWN, never NOT_AFFECTED."""
    broken = AffectedRange(
        "ECOSYSTEM",
        (*to_range("ECOSYSTEM", evs).events, RangeEvent(**{KINDS[where]: "garbage!"})),
    )
    assert evaluate(PYPI, [broken], [], str(v)) is Verdict.UNKNOWN
