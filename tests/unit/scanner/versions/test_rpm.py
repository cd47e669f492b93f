"""rpmvercmp / labelCompare ordering on real RHEL, Amazon Linux and SUSE versions."""

from __future__ import annotations

import pytest

from tidegate.scanner.versions import InvalidVersion, compare
from tidegate.scanner.versions.rpm import RpmVersionScheme

RPM = RpmVersionScheme()


@pytest.mark.parametrize(
    ("a", "expected", "b"),
    [
        ("1:3.0.7-27.el9", 1, "3.0.8-1.el9"),
        ("1:3.0.7-27.el9", -1, "1:3.0.7-28.el9_4"),
        ("2.34-100.el9_4.2", 1, "2.34-83.el9.12"),
        ("2.0.18-1.amzn2023.0.3", -1, "2.0.18-1.amzn2023.0.10"),
        ("1.0~rc1-1", -1, "1.0-1"),  # tilde: before the release it precedes
        ("1.0^20230101git1-1", 1, "1.0-1"),  # caret: after the version...
        ("1.0^20230101git1-1", -1, "1.0.1-1"),  # ...but before the next component
        ("1.0a", -1, "1.0.1"),
        ("1.0a", 1, "1.0"),
        ("1.a", -1, "1.1"),  # numeric segments beat alphabetic ones
        ("1.0", 0, "1_0"),  # separators only separate
        ("1.010", 0, "1.10"),
        ("2.0-1", 1, "2.0"),  # a missing release compares as ""
    ],
)
def test_real_world_order(a: str, expected: int, b: str) -> None:
    assert compare(RPM, a, b) == expected
    assert compare(RPM, b, a) == -expected


@pytest.mark.parametrize("bad", ["", "x:1.0", "1.0-", "1.0 1", "1/2"])
def test_garbage_is_invalid(bad: str) -> None:
    with pytest.raises(InvalidVersion):
        RPM.key(bad)
