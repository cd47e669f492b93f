"""dpkg ordering on real Debian and Ubuntu versions."""

from __future__ import annotations

import pytest

from tidegate.scanner.versions import InvalidVersion, compare
from tidegate.scanner.versions.deb import DebVersionScheme

DEB = DebVersionScheme()


@pytest.mark.parametrize(
    ("a", "expected", "b"),
    [
        ("1:2.38.1-5+deb12u1", 1, "2.38.1-5+deb12u2"),  # the epoch wins
        ("2.36-9+deb12u4", -1, "2.36-9+deb12u10"),
        ("2.36-9+deb12u4", 1, "2.36-9"),
        ("3.0.11-1~deb12u2", -1, "3.0.11-1"),  # "~" sorts before the end
        ("1.0~rc1", -1, "1.0"),
        ("1.0~~", -1, "1.0~"),
        ("1.0", -1, "1.0a"),
        ("1.0", -1, "1.0+dfsg"),
        ("1.0a", -1, "1.0+"),  # letters before non-letters
        ("1.0", 0, "1.0-0"),  # an absent revision equals "0"
        ("0:1.0", 0, "1.0"),
        ("1.01", 0, "1.1"),
        ("1.0.", 0, "1.0.0"),
        ("1.2.11.dfsg-2ubuntu9.2", -1, "1.2.13.dfsg-1"),
        ("2.35-0ubuntu3.8", -1, "2.35-0ubuntu3.10~"),
    ],
)
def test_real_world_order(a: str, expected: int, b: str) -> None:
    assert compare(DEB, a, b) == expected
    assert compare(DEB, b, a) == -expected


@pytest.mark.parametrize("bad", ["", "a1.0", "1.0-", ":1.0", "x:1.0", "1:", "1.0 beta", "1.0-a_b"])
def test_garbage_is_invalid(bad: str) -> None:
    with pytest.raises(InvalidVersion):
        DEB.key(bad)
