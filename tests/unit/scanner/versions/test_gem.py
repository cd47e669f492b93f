"""Gem::Version ordering on real RubyGems versions."""

from __future__ import annotations

import pytest

from tidegate.scanner.versions import InvalidVersion, compare
from tidegate.scanner.versions.gem import GemVersionScheme

GEM = GemVersionScheme()


@pytest.mark.parametrize(
    ("a", "expected", "b"),
    [
        ("7.1.0.beta1", -1, "7.1.0.rc1"),
        ("7.1.0.rc1", -1, "7.1.0"),
        ("7.0.8", -1, "7.1.0.beta1"),
        ("1.0.a", -1, "1.0"),
        ("1.0", 0, "1.0.0"),
        ("1.0.a", 0, "1.0.0.a"),
        ("1.0-beta", 0, "1.0.pre.beta"),
        ("1.0.a.0.b", -1, "1.0.a"),  # the padding 0 beats the string "b"
        ("1.0.a.0.1", 1, "1.0.a"),
        ("1.0.B", -1, "1.0.a"),  # case-sensitive
    ],
)
def test_real_world_order(a: str, expected: int, b: str) -> None:
    assert compare(GEM, a, b) == expected
    assert compare(GEM, b, a) == -expected


@pytest.mark.parametrize("bad", ["", "a", "1a", "1..0", "1.0-", "1.0 2", "-1"])
def test_garbage_is_invalid(bad: str) -> None:
    with pytest.raises(InvalidVersion):
        GEM.key(bad)
