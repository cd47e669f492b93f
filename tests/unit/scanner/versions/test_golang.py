"""Go module versions (pseudo-versions, +incompatible) and Go toolchain versions."""

from __future__ import annotations

import pytest

from tidegate.scanner.versions import InvalidVersion, compare
from tidegate.scanner.versions.golang import GoVersionScheme

GO = GoVersionScheme()


@pytest.mark.parametrize(
    ("a", "expected", "b"),
    [
        ("v0.0.0-20210101000000-abcdef123456", -1, "v0.0.1"),
        ("v0.0.0-20191109021931-daa7c04131f5", -1, "v0.0.0-20210101000000-abcdef123456"),
        ("v1.2.3", -1, "v1.2.4-0.20230101000000-0123456789ab"),  # pseudo after its base
        ("v1.2.4-0.20230101000000-0123456789ab", -1, "v1.2.4"),
        ("v1.2.4-pre", -1, "v1.2.4-pre.0.20230101000000-0123456789ab"),
        ("v2.0.0+incompatible", 0, "v2.0.0"),
        ("v2.0.0+incompatible", -1, "v2.1.0+incompatible"),
        ("v1", 0, "v1.0.0"),
        ("v1.2", 0, "v1.2.0"),
        ("1.21.3", 0, "v1.21.3"),  # OSV writes Go versions without the "v"
        ("go1.21.3", 0, "1.21.3"),
        ("go1.21rc1", -1, "go1.21.0"),
        ("1.21rc1", 0, "1.21.0-rc.1"),
        ("go1.21beta1", -1, "go1.21rc1"),
        ("go1.20", 0, "1.20.0"),
        ("go1.9.7", -1, "go1.10"),
    ],
)
def test_real_world_order(a: str, expected: int, b: str) -> None:
    assert compare(GO, a, b) == expected
    assert compare(GO, b, a) == -expected


@pytest.mark.parametrize(
    "bad", ["", "v", "v1.2-pre", "v01.2.3", "v1.2.3-", "vx", "go", "gox1", "v1.2.3.4"]
)
def test_garbage_is_invalid(bad: str) -> None:
    with pytest.raises(InvalidVersion):
        GO.key(bad)
