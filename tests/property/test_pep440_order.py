"""PEP 440 ordering against packaging.version.Version."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import InvalidVersion as PackagingInvalid
from packaging.version import Version

from tidegate.scanner.versions import compare
from tidegate.scanner.versions.pep440 import Pep440VersionScheme

from . import strategies as s
from .laws import (
    check_order_laws,
    check_sorted_neighbours,
    curated,
    installed_python_versions,
    parses,
)

SETTINGS = settings(max_examples=300, deadline=None)
PEP = Pep440VersionScheme()
REAL = curated("pep440") + installed_python_versions()


def reference(a: str, b: str) -> int:
    va, vb = Version(a), Version(b)
    return (va > vb) - (va < vb)


def packaging_parses(text: str) -> bool:
    try:
        Version(text)
    except PackagingInvalid:
        return False
    return True


@SETTINGS
@given(s.pep440_realistic, s.pep440_realistic, s.pep440_realistic)
def test_total_order(a: str, b: str, c: str) -> None:
    """PEP 440: "the version ordering ... is a total order"."""
    check_order_laws(PEP, a, b, c)


@SETTINGS
@given(s.pep440_realistic, s.pep440_realistic)
def test_agrees_with_packaging(a: str, b: str) -> None:
    """PEP 440: "Within a numeric release, pre-releases sort before the release, which
    sorts before post-releases; developmental releases sort before their parent"."""
    assert compare(PEP, a, b) == reference(a, b)


@SETTINGS
@given(st.one_of(s.pep440_chars, s.pep440_realistic))
def test_accepts_exactly_what_packaging_accepts(text: str) -> None:
    """PEP 440 appendix B: the permissive grammar decides what is a version."""
    assert parses(PEP, text) == packaging_parses(text)


@SETTINGS
@given(st.sampled_from(REAL), st.sampled_from(REAL))
def test_real_world_pairs_agree(a: str, b: str) -> None:
    """The same ordering holds for versions published on PyPI."""
    assert compare(PEP, a, b) == reference(a, b)


def test_real_world_sorted_order_agrees() -> None:
    """Curated PyPI versions and this virtualenv's distributions sort as packaging sorts them."""
    assert check_sorted_neighbours(PEP, REAL, reference) > 30
