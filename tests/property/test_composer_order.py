"""Composer (Packagist) ordering against composer/semver (Debian's composer package)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tidegate.scanner.versions import compare
from tidegate.scanner.versions.composer import ComposerVersionScheme

from . import strategies as s
from .laws import check_order_laws, check_sorted_neighbours, curated, parses
from .oracle import LineOracle

SETTINGS = settings(max_examples=300, deadline=None)
COMPOSER = ComposerVersionScheme()
REAL = curated("composer")
composer_versions = st.builds(
    lambda v, nums, stab, dev: f"{v}{nums}{stab}{dev}",
    st.sampled_from(["", "v"]),
    s.numbers(1, 4),
    st.sampled_from(
        [
            "",
            "-alpha1",
            "-beta",
            "-RC2",
            "-patch1",
            "-p3",
            "-pl2",
            "-stable",
            "a1",
            ".b2",
            "-rc.3",
            "-beta2.1",
        ]
    ),
    st.sampled_from(["", "", "-dev"]),
)


@SETTINGS
@given(composer_versions, composer_versions, composer_versions)
def test_total_order(a: str, b: str, c: str) -> None:
    """PHP version_compare: "any string not found in this list < dev < alpha = a < beta = b
    < RC = rc < # < pl = p"."""
    check_order_laws(COMPOSER, a, b, c)


@SETTINGS
@given(composer_versions, composer_versions)
def test_agrees_with_composer(composer_ref: LineOracle, a: str, b: str) -> None:
    """Composer: versions are normalized (four numeric parts, canonical stability names)
    and then compared with version_compare."""
    assert str(compare(COMPOSER, a, b)) == composer_ref.ask(a, b)


@SETTINGS
@given(st.one_of(composer_versions, st.text(alphabet="0123.-vabdeplrtx", min_size=1, max_size=10)))
def test_accepts_only_what_composer_accepts(composer_ref: LineOracle, text: str) -> None:
    """Composer's VersionParser::normalize accepts every version we accept (branch names
    such as dev-main, which it also accepts, are unparsable for us on purpose)."""
    if parses(COMPOSER, text):
        assert composer_ref.ask(text, text) != "INVALID"


def test_real_world_sorted_order_agrees(composer_ref: LineOracle) -> None:
    """Real Packagist versions sort as Composer sorts them."""
    assert check_sorted_neighbours(COMPOSER, REAL, lambda a, b: int(composer_ref.ask(a, b))) > 10
