"""NuGetVersion ordering: NuGet.Client test vectors and real NuGet versions."""

from __future__ import annotations

import pytest

from tidegate.scanner.versions import InvalidVersion, compare
from tidegate.scanner.versions.nuget import NuGetVersionScheme

from .corpus import read_vectors, sign

NUGET = NuGetVersionScheme()
VECTORS = read_vectors("nuget")


def test_upstream_vectors() -> None:
    """NuGet.Client VersionComparer/NuGetVersion tests: every pair orders as upstream says."""
    ordered = [v for v in VECTORS if not v.invalid]
    wrong = [(v.a, v.op, v.b) for v in ordered if compare(NUGET, v.a, v.b) != sign(v.op)]
    assert wrong == []
    assert len(ordered) > 40


@pytest.mark.parametrize("bad", [v.a for v in VECTORS if v.invalid])
def test_upstream_invalid(bad: str) -> None:
    with pytest.raises(InvalidVersion):
        NUGET.key(bad)


@pytest.mark.parametrize(
    ("a", "expected", "b"),
    [
        ("6.0.0-preview.7.21377.19", -1, "6.0.0-rc.2.21480.5"),
        ("6.0.0-rc.2.21480.5", -1, "6.0.0"),
        ("4.3.0", -1, "4.3.0.1"),
        ("2.1.0-Preview1-final", 1, "2.1.0-beta"),
    ],
)
def test_real_world_order(a: str, expected: int, b: str) -> None:
    assert compare(NUGET, a, b) == expected
