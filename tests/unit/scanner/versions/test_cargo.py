"""SemVer 2.0.0 precedence for crates.io versions."""

from __future__ import annotations

import pytest

from tidegate.scanner.versions import InvalidVersion, compare
from tidegate.scanner.versions.cargo import CargoVersionScheme

CARGO = CargoVersionScheme()


@pytest.mark.parametrize(
    ("a", "expected", "b"),
    [
        ("1.0.188", -1, "1.0.197"),
        ("1.0.0-alpha.1", -1, "1.0.0-rc.10"),
        ("1.0.0-rc.2", -1, "1.0.0-rc.10"),
        ("0.11.0+wasi-snapshot-preview1", 0, "0.11.0"),
        ("1.0.0-alpha", -1, "1.0.0-alpha.1"),
        ("1.0.0-alpha.beta", -1, "1.0.0-beta"),
    ],
)
def test_real_world_order(a: str, expected: int, b: str) -> None:
    assert compare(CARGO, a, b) == expected
    assert compare(CARGO, b, a) == -expected


@pytest.mark.parametrize("bad", ["", "v1.0.0", "1.0", "01.0.0", "1.0.0-01", "1.0.0-", " 1.0.0"])
def test_garbage_is_invalid(bad: str) -> None:
    with pytest.raises(InvalidVersion):
        CARGO.key(bad)
