"""dpkg ordering against `dpkg --compare-versions`."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tidegate.scanner.versions import compare
from tidegate.scanner.versions.deb import DebVersionScheme

from . import strategies as s
from .laws import check_order_laws, check_sorted_neighbours, curated, installed_deb_versions
from .oracle import dpkg_compare

SETTINGS = settings(max_examples=300, deadline=None)
DEB = DebVersionScheme()
REAL = curated("deb") + installed_deb_versions()


@SETTINGS
@given(s.deb_versions, s.deb_versions, s.deb_versions)
def test_total_order(a: str, b: str, c: str) -> None:
    """deb-version(7): versions are compared by epoch, then upstream, then revision."""
    check_order_laws(DEB, a, b, c)


@SETTINGS
@given(s.deb_versions, s.deb_versions)
def test_agrees_with_dpkg(a: str, b: str) -> None:
    """deb-version(7): "The lexical comparison is a comparison of ASCII values modified so
    that all the letters sort earlier than all the non-letters and so that a tilde sorts
    before anything, even the end of a part." """
    assert compare(DEB, a, b) == dpkg_compare(a, b)


@SETTINGS
@given(st.sampled_from(REAL), st.sampled_from(REAL))
def test_real_world_pairs_agree_with_dpkg(a: str, b: str) -> None:
    """deb-version(7): the same rules hold for the versions Debian actually ships."""
    assert compare(DEB, a, b) == dpkg_compare(a, b)


def test_real_world_sorted_order_agrees_with_dpkg() -> None:
    """Every version installed here, sorted by our key, is in dpkg's order."""
    assert check_sorted_neighbours(DEB, REAL, dpkg_compare) > 100
