"""RPM ordering against rpm's own labelCompare (Debian python3-rpm)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tidegate.scanner.versions import compare
from tidegate.scanner.versions.rpm import RpmVersionScheme

from . import strategies as s
from .laws import check_order_laws, check_sorted_neighbours, curated
from .oracle import LineOracle

SETTINGS = settings(max_examples=300, deadline=None)
RPM = RpmVersionScheme()
REAL = curated("rpm")


@SETTINGS
@given(s.rpm_versions, s.rpm_versions, s.rpm_versions)
def test_total_order(a: str, b: str, c: str) -> None:
    """rpmvercmp: EVR compares epoch, then version, then release."""
    check_order_laws(RPM, a, b, c)


@SETTINGS
@given(s.rpm_versions, s.rpm_versions)
def test_agrees_with_rpm(rpm_ref: LineOracle, a: str, b: str) -> None:
    """RPM version comparison: "The tilde (~) character sorts before anything else,
    even the end of the string"; "the caret (^) sorts after the end of the string but
    before anything else"; numeric segments are newer than alphabetic ones."""
    assert compare(RPM, a, b) == int(rpm_ref.ask(a, b))


@SETTINGS
@given(st.sampled_from(REAL), st.sampled_from(REAL))
def test_real_world_pairs_agree_with_rpm(rpm_ref: LineOracle, a: str, b: str) -> None:
    """The same rules hold for RHEL, Amazon Linux and SUSE versions."""
    assert compare(RPM, a, b) == int(rpm_ref.ask(a, b))


def test_real_world_sorted_order_agrees_with_rpm(rpm_ref: LineOracle) -> None:
    """The curated corpus, sorted by our key, is in rpm's order."""
    assert check_sorted_neighbours(RPM, REAL, lambda a, b: int(rpm_ref.ask(a, b))) > 20
