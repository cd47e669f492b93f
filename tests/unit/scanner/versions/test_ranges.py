"""OSV range evaluation: the schema's examples and its UNKNOWN rules."""

from __future__ import annotations

import pytest

from tidegate.scanner.versions import AffectedRange, RangeEvent, Verdict, evaluate, scheme_for

A, N, U = Verdict.AFFECTED, Verdict.NOT_AFFECTED, Verdict.UNKNOWN
PYPI = scheme_for("PyPI")
DEB = scheme_for("Debian:12")
NPM = scheme_for("npm")


def rng(kind: str, *events: tuple[str, str]) -> AffectedRange:
    return AffectedRange(kind, tuple(RangeEvent(**{k: v}) for k, v in events))


EVERYTHING = rng("SEMVER", ("introduced", "0"))
BEFORE_102 = rng("SEMVER", ("introduced", "0"), ("fixed", "1.0.2"))
TWO_RANGES = rng(
    "SEMVER",
    ("introduced", "1.0.0"),
    ("fixed", "1.0.2"),
    ("introduced", "3.0.0"),
    ("fixed", "3.2.5"),
)
LAST_AFFECTED = rng("ECOSYSTEM", ("introduced", "0"), ("last_affected", "2.1.214"))


@pytest.mark.parametrize(
    ("ranges", "version", "expected"),
    [
        ((EVERYTHING,), "0.0.1", A),  # "Unfixed vulnerability example"
        ((EVERYTHING,), "99.0.0", A),
        ((BEFORE_102,), "1.0.1", A),  # "Fixed vulnerability example"
        ((BEFORE_102,), "1.0.2", N),
        ((TWO_RANGES,), "0.9.0", N),  # "Multiple range example"
        ((TWO_RANGES,), "1.0.0", A),
        ((TWO_RANGES,), "1.0.2", N),
        ((TWO_RANGES,), "3.1.0", A),
        ((TWO_RANGES,), "3.2.5", N),
        ((LAST_AFFECTED,), "2.1.214", A),  # "last_affected vs fixed example"
        ((LAST_AFFECTED,), "2.1.215", N),
        ((), "1.0.0", N),
    ],
)
def test_schema_examples(
    ranges: tuple[AffectedRange, ...], version: str, expected: Verdict
) -> None:
    assert evaluate(NPM, ranges, [], version) is expected


def test_events_are_sorted_before_evaluation() -> None:
    shuffled = rng(
        "ECOSYSTEM",
        ("fixed", "3.2.5"),
        ("introduced", "3.0.0"),
        ("fixed", "1.0.2"),
        ("introduced", "1.0.0"),
    )
    assert evaluate(PYPI, [shuffled], [], "3.1") is A
    assert evaluate(PYPI, [shuffled], [], "2.0") is N


def test_ecosystem_ranges_use_the_ecosystem_order() -> None:
    r = rng("ECOSYSTEM", ("introduced", "0"), ("fixed", "2.36-9+deb12u4"))
    assert evaluate(DEB, [r], [], "2.36-9+deb12u3") is A
    assert evaluate(DEB, [r], [], "2.36-9+deb12u10") is N  # 10 > 4 numerically
    assert evaluate(DEB, [r], [], "1:2.0-1") is N  # the epoch wins


def test_semver_ranges_use_semver_whatever_the_ecosystem() -> None:
    # As PEP 440, 1.0.0-rc.1 would be 1.0.0rc1 either way; a deb installed version "1.0.0"
    # still lands in a SEMVER range.
    r = rng("SEMVER", ("introduced", "1.0.0-alpha"), ("fixed", "1.0.0"))
    assert evaluate(DEB, [r], [], "1.0.0-rc.1") is A
    assert evaluate(DEB, [r], [], "1.0.0") is N


def test_limit() -> None:
    r = rng("ECOSYSTEM", ("introduced", "1.0"), ("limit", "2.0"))
    assert evaluate(PYPI, [r], [], "1.5") is A
    assert evaluate(PYPI, [r], [], "2.0") is N
    star = rng("ECOSYSTEM", ("introduced", "1.0"), ("limit", "*"))
    assert evaluate(PYPI, [star], [], "99") is A


def test_versions_list() -> None:
    assert evaluate(PYPI, [], ["1.0", "1.1"], "1.1") is A
    assert evaluate(PYPI, [], ["1.0", "1.1"], "1.1.0") is A  # equal in PEP 440
    assert evaluate(PYPI, [], ["1.0", "1.1"], "1.2") is N
    assert evaluate(PYPI, [], ["not a version"], "1.2") is N


def test_git_ranges_are_ignored() -> None:
    git = AffectedRange("GIT", (RangeEvent(introduced="abc123"), RangeEvent(fixed="def456")))
    assert evaluate(PYPI, [git], [], "1.0") is N


def test_unparsable_installed_version_is_unknown() -> None:
    r = rng("ECOSYSTEM", ("introduced", "0"), ("fixed", "1.0"))
    assert evaluate(PYPI, [r], [], "not a version") is U
    assert evaluate(PYPI, [], ["1.0"], "not a version") is U
    assert evaluate(PYPI, [], [], "not a version") is U
    # ...unless the versions list names it verbatim.
    assert evaluate(PYPI, [r], ["not a version"], "not a version") is A


def test_unparsable_event_is_unknown_unless_another_range_affects() -> None:
    bad = rng("ECOSYSTEM", ("introduced", "0"), ("fixed", "garbage!"))
    good = rng("ECOSYSTEM", ("introduced", "1.0"), ("fixed", "2.0"))
    assert evaluate(PYPI, [bad], [], "1.5") is U
    assert evaluate(PYPI, [bad, good], [], "1.5") is A
    assert evaluate(PYPI, [bad, good], [], "3.0") is U
    assert evaluate(PYPI, [bad], ["1.5"], "1.5") is A


def test_unknown_range_type_is_unknown() -> None:
    odd = rng("CALVER", ("introduced", "0"))
    assert evaluate(PYPI, [odd], [], "1.0") is U
