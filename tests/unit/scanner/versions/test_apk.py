"""apk-tools ordering: upstream vectors from test/version.data and real Alpine versions."""

from __future__ import annotations

import pytest

from tidegate.scanner.versions import InvalidVersion, compare
from tidegate.scanner.versions.apk import ApkVersionScheme

from .corpus import read_vectors, sign

APK = ApkVersionScheme()
VECTORS = read_vectors("apk")


def _valid(v: str) -> bool:
    try:
        APK.key(v)
    except InvalidVersion:
        return False
    return True


def test_upstream_vectors() -> None:
    """apk-tools test/version.data and test/unit/version.data: pairs order as upstream says."""
    wrong = [
        (v.a, v.op, v.b)
        for v in VECTORS
        if v.op and not v.invalid and compare(APK, v.a, v.b) != sign(v.op)
    ]
    assert wrong == []
    assert len([v for v in VECTORS if v.op]) > 720


def test_upstream_invalid_pairs_are_unparsable() -> None:
    invalid = [v for v in VECTORS if v.invalid and v.op]
    assert len(invalid) == 2
    assert all(not (_valid(v.a) and _valid(v.b)) for v in invalid)


@pytest.mark.parametrize(
    ("a", "expected", "b"),
    [
        ("1.2.4_git20230717-r4", 1, "1.2.4-r4"),
        ("1.2.4_git20230717-r4", -1, "1.2.5-r0"),
        ("3.1.4-r5", -1, "3.1.4-r6"),
        ("1.0_rc3-r1", -1, "1.0-r0"),
        ("1.01", -1, "1.1"),
        ("1.0", 1, "1"),
    ],
)
def test_real_world_order(a: str, expected: int, b: str) -> None:
    assert compare(APK, a, b) == expected


def test_current_apk_tools_semantics() -> None:
    """Older apk-tools read "1.0_alpha" above "1.0"; the current comparator does not."""
    assert compare(APK, "1.0_alpha", "1.0") == -1
    assert compare(APK, "1.0", "1.00") == -1  # leading zeros compare as strings
    assert compare(APK, "1.0~1234-r1", "1.0~2345-r0") == -1
    assert compare(APK, "1.0.1", "1.0a") == 1
    assert compare(APK, "1.0a", "1.0_p1") == 1
    assert compare(APK, "1.0_p1", "1.0-r1") == 1


def test_upstream_validity_cases() -> None:
    """apk-tools test/unit/version.data: the bare version lines and their "!" negations."""
    checked = [v for v in VECTORS if not v.op]
    assert len(checked) >= 30
    wrong = [v.a for v in checked if _valid(v.a) == v.invalid]
    assert wrong == []


@pytest.mark.parametrize(
    "bad", ["", "r1", "1.0-1", "1.0_foo", "1.0bc", "1.0.", "1.0-r1x", "1..0", "1.0-r"]
)
def test_garbage_is_invalid(bad: str) -> None:
    with pytest.raises(InvalidVersion):
        APK.key(bad)
