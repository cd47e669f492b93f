"""Maven ordering against Maven's own ComparableVersion (Debian maven 3.8)."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tidegate.scanner.versions import compare
from tidegate.scanner.versions.maven import MavenVersionScheme

from . import strategies as s
from .laws import (
    check_order_laws,
    check_order_laws_by,
    check_sorted_neighbours,
    curated,
    installed_maven_versions,
)
from .oracle import LineOracle

SETTINGS = settings(max_examples=300, deadline=None)
MVN = MavenVersionScheme()
REAL = curated("maven") + installed_maven_versions()


@SETTINGS
@given(s.maven_versions, s.maven_versions, s.maven_versions)
def test_order_laws_as_far_as_maven_has_them(maven_ref: LineOracle, a: str, b: str, c: str) -> None:
    """ComparableVersion implements Comparable, whose contract asks for transitivity.

    Maven 3.8 breaks it (1 < 1.alphaalpha.0 < 1.alpha < 1, because ".X" reads as "-X" only
    at the end), and we reproduce Maven exactly, so any transitivity failure of ours must
    be Maven's own.
    """
    try:
        check_order_laws(MVN, a, b, c)
    except AssertionError:
        with pytest.raises(AssertionError):
            check_order_laws_by(lambda x, y: int(maven_ref.ask(x, y)), a, b, c)


def test_maven_is_not_transitive_and_neither_are_we(maven_ref: LineOracle) -> None:
    """The known cycle, in Maven and here."""
    cycle = ["1", "1.alphaalpha.0", "1.alpha", "1"]
    for x, y in pairwise(cycle):
        assert int(maven_ref.ask(x, y)) == -1
        assert compare(MVN, x, y) == -1


@SETTINGS
@given(s.maven_versions, s.maven_versions)
def test_agrees_with_comparable_version(maven_ref: LineOracle, a: str, b: str) -> None:
    """ComparableVersion javadoc: "strings are checked for well-known qualifiers and the
    qualifier ordering is used for version ordering: alpha or a < beta or b < milestone
    or m < rc or cr < snapshot < (the empty string) or ga or final < sp"; "unknown
    qualifiers are considered after known qualifiers"."""
    assert compare(MVN, a, b) == int(maven_ref.ask(a, b))


@SETTINGS
@given(st.sampled_from(REAL), st.sampled_from(REAL))
def test_real_world_pairs_agree(maven_ref: LineOracle, a: str, b: str) -> None:
    """The same ordering holds for versions published on Maven Central."""
    assert compare(MVN, a, b) == int(maven_ref.ask(a, b))


def test_real_world_sorted_order_agrees(maven_ref: LineOracle) -> None:
    """Curated versions plus Debian's Maven repository sort as Maven sorts them."""
    assert check_sorted_neighbours(MVN, REAL, lambda a, b: int(maven_ref.ask(a, b))) > 40


@SETTINGS
@given(s.maven_versions, s.maven_versions)
def test_equal_keys_hash_equal(a: str, b: str) -> None:
    """Python data model: "objects which compare equal have the same hash value"."""
    ka, kb = MVN.key(a), MVN.key(b)
    if ka == kb:
        assert hash(ka) == hash(kb)
