"""Go module version ordering against golang.org/x/mod/semver."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tidegate.scanner.versions import compare
from tidegate.scanner.versions.golang import GoVersionScheme

from . import strategies as s
from .laws import check_order_laws, check_sorted_neighbours, curated, parses
from .oracle import LineOracle

SETTINGS = settings(max_examples=300, deadline=None)
GO = GoVersionScheme()
REAL = curated("golang")


@SETTINGS
@given(s.go_versions, s.go_versions, s.go_versions)
def test_total_order(a: str, b: str, c: str) -> None:
    """x/mod/semver: "Compare returns an integer comparing two versions"; a total order."""
    check_order_laws(GO, a, b, c)


@SETTINGS
@given(s.go_versions, s.go_versions)
def test_agrees_with_x_mod_semver(go_ref: LineOracle, a: str, b: str) -> None:
    """Go modules reference: "A pseudo-version is a specially formatted pre-release
    version"; "+incompatible" is build metadata, ignored for precedence."""
    assert str(compare(GO, a, b)) == go_ref.ask(a, b)


@SETTINGS
@given(st.one_of(s.semver_chars.map(lambda t: "v" + t), s.go_versions))
def test_accepts_what_x_mod_semver_accepts(go_ref: LineOracle, text: str) -> None:
    """x/mod/semver: "The version must be of the form
    vMAJOR[.MINOR[.PATCH[-PRERELEASE][+BUILD]]]"."""
    assert parses(GO, text) == (go_ref.ask(text, text) != "INVALID")


def test_real_world_sorted_order_agrees(go_ref: LineOracle) -> None:
    """Real module versions (pseudo-versions included) sort as the go command sorts them."""
    assert check_sorted_neighbours(GO, REAL, lambda a, b: int(go_ref.ask(a, b))) > 10
