"""RubyGems ordering against Gem::Version (Debian ruby)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tidegate.scanner.versions import compare
from tidegate.scanner.versions.gem import GemVersionScheme

from . import strategies as s
from .laws import check_order_laws, check_sorted_neighbours, curated, installed_gem_versions, parses
from .oracle import LineOracle

SETTINGS = settings(max_examples=300, deadline=None)
GEM = GemVersionScheme()
REAL = curated("gem") + installed_gem_versions()


@SETTINGS
@given(s.gem_versions, s.gem_versions, s.gem_versions)
def test_total_order(a: str, b: str, c: str) -> None:
    """Gem::Version: "Compares this version with other returning -1, 0, or 1"."""
    check_order_laws(GEM, a, b, c)


@SETTINGS
@given(s.gem_versions, s.gem_versions)
def test_agrees_with_gem_version(gem_ref: LineOracle, a: str, b: str) -> None:
    """Gem::Version: "If any part contains letters (currently only a-z are supported)
    then that version is considered prerelease"; prereleases sort before the release."""
    assert gem_ref.ask(a, b) == str(compare(GEM, a, b))


@SETTINGS
@given(st.one_of(st.text(alphabet="0123.-abz ", min_size=1, max_size=8), s.gem_versions))
def test_accepts_what_gem_version_accepts(gem_ref: LineOracle, text: str) -> None:
    """Gem::Version.correct?: the version pattern decides what is a version."""
    if text.strip():  # Gem::Version reads a blank string as "0"; we call it unparsable
        assert parses(GEM, text) == (gem_ref.ask(text, text) != "INVALID")


@SETTINGS
@given(st.sampled_from(REAL), st.sampled_from(REAL))
def test_real_world_pairs_agree(gem_ref: LineOracle, a: str, b: str) -> None:
    """The same ordering holds for versions published on RubyGems."""
    assert gem_ref.ask(a, b) == str(compare(GEM, a, b))


def test_real_world_sorted_order_agrees(gem_ref: LineOracle) -> None:
    """Curated versions plus Ruby's default gems sort as Gem::Version sorts them."""
    assert check_sorted_neighbours(GEM, REAL, lambda a, b: int(gem_ref.ask(a, b))) > 20
