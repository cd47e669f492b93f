"""PEP 440 ordering and normalisation on real PyPI versions."""

from __future__ import annotations

import pytest

from tidegate.scanner.versions import InvalidVersion, compare
from tidegate.scanner.versions.pep440 import Pep440VersionScheme

PEP = Pep440VersionScheme()


@pytest.mark.parametrize(
    ("a", "expected", "b"),
    [
        ("2.31.0", -1, "2.32.3"),
        ("1.0.dev0", -1, "1.0a1"),  # a dev release of a final comes before its prereleases
        ("1.0a1", -1, "1.0b1"),
        ("1.0rc1", -1, "1.0"),
        ("1.0", -1, "1.0.post1"),
        ("1.0.post1.dev1", -1, "1.0.post1"),
        ("1.0", -1, "1.0+local"),
        ("1.0+abc", -1, "1.0+1"),  # numeric local segments beat alphanumeric ones
        ("1!0.1", 1, "2024.2.2"),
        ("1.0", 0, "1.0.0"),
        ("1.0-1", 0, "1.0.post1"),
        ("v1.0.PREVIEW-2", 0, "1.0rc2"),
        ("1.0alpha", 0, "1.0a0"),
        ("1.0+Ubuntu-1", 0, "1.0+ubuntu.1"),
    ],
)
def test_real_world_order(a: str, expected: int, b: str) -> None:
    assert compare(PEP, a, b) == expected
    assert compare(PEP, b, a) == -expected


@pytest.mark.parametrize("bad", ["", "1.0-dev-x", "french toast", "1.0+", "1.0.0.a.b", "1..0"])
def test_garbage_is_invalid(bad: str) -> None:
    with pytest.raises(InvalidVersion):
        PEP.key(bad)
