"""Composer (Packagist) normalisation and version_compare ordering."""

from __future__ import annotations

import pytest

from tidegate.scanner.versions import InvalidVersion, compare
from tidegate.scanner.versions.composer import ComposerVersionScheme

COMPOSER = ComposerVersionScheme()


@pytest.mark.parametrize(
    ("a", "expected", "b"),
    [
        ("1.2", 0, "1.2.0.0"),
        ("v2.0.1", 0, "2.0.1"),
        ("1.0.0-dev", -1, "1.0.0-alpha1"),
        ("1.0.0-alpha1", -1, "1.0.0-beta"),
        ("1.0.0-beta2", -1, "1.0.0-RC1"),
        ("1.0.0-RC1", -1, "1.0.0"),
        ("1.0.0", -1, "1.0.0-patch1"),
        ("1.0.0-p1", 0, "1.0.0-pl1"),
        ("1.0.0-stable", 0, "1.0.0"),
        ("0-stable-dev", 0, "0"),
        ("5.4.31", -1, "5.4.100"),
    ],
)
def test_order(a: str, expected: int, b: str) -> None:
    assert compare(COMPOSER, a, b) == expected
    assert compare(COMPOSER, b, a) == -expected


@pytest.mark.parametrize("bad", ["", "dev-main", "1.x-dev", "1.0.0.0.0", "foo"])
def test_garbage_is_invalid(bad: str) -> None:
    with pytest.raises(InvalidVersion):
        COMPOSER.key(bad)
