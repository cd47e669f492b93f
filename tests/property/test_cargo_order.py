"""Cargo ordering against the Rust semver crate (SemVer 2.0.0 precedence)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tidegate.scanner.versions import compare
from tidegate.scanner.versions.cargo import CargoVersionScheme

from . import strategies as s
from .laws import check_order_laws, check_sorted_neighbours, curated, parses
from .oracle import LineOracle

SETTINGS = settings(max_examples=300, deadline=None)
CARGO = CargoVersionScheme()
REAL = curated("cargo")


@SETTINGS
@given(s.semver_core, s.semver_core, s.semver_core)
def test_total_order(a: str, b: str, c: str) -> None:
    """SemVer 2.0.0 section 11: precedence is a total order."""
    check_order_laws(CARGO, a, b, c)


@SETTINGS
@given(s.semver_core, s.semver_core)
def test_agrees_with_semver_crate(cargo_ref: LineOracle, a: str, b: str) -> None:
    """SemVer 2.0.0 section 11.4: "Numeric identifiers always have lower precedence than
    non-numeric identifiers"; "A larger set of pre-release fields has a higher precedence"."""
    assert str(compare(CARGO, a, b)) == cargo_ref.ask(a, b)


@SETTINGS
@given(st.one_of(s.semver_chars, s.semver_core))
def test_accepts_what_semver_crate_accepts(cargo_ref: LineOracle, text: str) -> None:
    """SemVer 2.0.0 section 2: "A normal version number MUST take the form X.Y.Z"."""
    assert parses(CARGO, text) == (cargo_ref.ask(text, text) != "INVALID")


def test_real_world_sorted_order_agrees(cargo_ref: LineOracle) -> None:
    """Real crates.io versions sort as the semver crate sorts them."""
    assert check_sorted_neighbours(CARGO, REAL, lambda a, b: int(cargo_ref.ask(a, b))) > 5
