"""Maven ComparableVersion ordering on real Maven Central versions."""

from __future__ import annotations

import pytest

from tidegate.scanner.versions import InvalidVersion, compare
from tidegate.scanner.versions.maven import MavenVersionScheme

MVN = MavenVersionScheme()


@pytest.mark.parametrize(
    ("a", "expected", "b"),
    [
        ("2.15.0-rc1", -1, "2.15.0"),
        ("2.17.0", -1, "2.17.1"),
        ("1.0-alpha-1", -1, "1.0-beta"),
        ("1.0-beta", -1, "1.0-milestone-1"),
        ("1.0-M1", -1, "1.0-rc1"),
        ("1.0-rc1", 0, "1.0-cr1"),
        ("1.0-rc1", -1, "1.0-SNAPSHOT"),
        ("1.0-SNAPSHOT", -1, "1.0"),
        ("1.0", 0, "1.0.0.Final"),
        ("1", 0, "1.0-ga"),
        ("1.0", -1, "1.0-sp1"),
        ("1.0-sp1", -1, "1.0-foo"),  # unknown qualifiers after all known ones
        ("1.0-foo", -1, "1.0.1"),
        ("5.3.20", 0, "5.3.20.RELEASE"),
        ("32.1.3-android", -1, "32.1.3-jre"),
        ("1.0a1", 0, "1.0-alpha-1"),
        ("1-1", 0, "1.0-1"),
    ],
)
def test_real_world_order(a: str, expected: int, b: str) -> None:
    assert compare(MVN, a, b) == expected
    assert compare(MVN, b, a) == -expected


def test_keys_sort() -> None:
    versions = ["1.0", "1.0-SNAPSHOT", "1.0-alpha-1", "1.0.1", "1.0-sp1", "1.0-rc1"]
    ordered = sorted(versions, key=MVN.key)
    assert ordered == ["1.0-alpha-1", "1.0-rc1", "1.0-SNAPSHOT", "1.0", "1.0-sp1", "1.0.1"]


@pytest.mark.parametrize("bad", ["", "   "])
def test_only_empty_is_invalid(bad: str) -> None:
    with pytest.raises(InvalidVersion):
        MVN.key(bad)
