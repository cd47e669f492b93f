"""node-semver ordering on real npm versions."""

from __future__ import annotations

import pytest

from tidegate.scanner.versions import InvalidVersion, compare
from tidegate.scanner.versions.npm import NpmVersionScheme

NPM = NpmVersionScheme()


@pytest.mark.parametrize(
    ("a", "expected", "b"),
    [
        ("4.17.20", -1, "4.17.21"),
        ("1.0.0-beta.2", -1, "1.0.0-beta.10"),  # numeric identifiers compare as numbers
        ("1.0.0-beta.10", -1, "1.0.0-rc.1"),
        ("1.0.0-rc.1", -1, "1.0.0"),
        ("1.0.0-1", -1, "1.0.0-alpha"),  # numeric before alphanumeric
        ("1.0.0-alpha", -1, "1.0.0-alpha.1"),
        ("1.2.3+build.11", 0, "1.2.3"),  # build metadata ignored
        ("v1.2.3", 0, "=1.2.3"),
        (" v1.2.3 ", 0, "1.2.3"),
        ("19.0.0-rc-fb9a90fa48-20240614", -1, "19.0.0"),
    ],
)
def test_real_world_order(a: str, expected: int, b: str) -> None:
    assert compare(NPM, a, b) == expected
    assert compare(NPM, b, a) == -expected


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "1.2",
        "01.2.3",
        "1.2.3-01",
        "1.2.3-",
        "1.2.3+",
        "x.y.z",
        "1.2.3.4",
        "9007199254740992.0.0",
    ],
)
def test_garbage_is_invalid(bad: str) -> None:
    with pytest.raises(InvalidVersion):
        NPM.key(bad)
