"""NuGet: NuGetVersion ordering (1 to 4 numeric parts, SemVer 2 labels, case-insensitive)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import ClassVar

from tidegate.scanner.versions._semver import RELEASE
from tidegate.scanner.versions.base import InvalidVersion

# NuGet parses each numeric part with int.TryParse, so leading zeros are allowed.
_VERSION = re.compile(
    r"(?P<nums>[0-9]+(?:\.[0-9]+){0,3})"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+(?P<meta>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
)
_INT32_MAX = 2**31 - 1


def _label_key(label: str) -> tuple[int, int | str]:
    # A label is numeric when it fits an Int32; numeric sorts before text, text ignores case.
    if label.isdigit() and int(label) <= _INT32_MAX:
        return (0, int(label))
    return (1, label.upper())


@lru_cache(maxsize=65536)
def _key(text: str) -> tuple[object, ...]:
    m = _VERSION.fullmatch(text.strip())
    if m is None:
        raise InvalidVersion(text)
    nums = [int(n) for n in m["nums"].split(".")]
    if any(n > _INT32_MAX for n in nums):
        raise InvalidVersion(text)
    nums += [0] * (4 - len(nums))
    pre: tuple[object, ...] = RELEASE
    if m["pre"]:
        pre = (0, tuple(_label_key(label) for label in m["pre"].split(".")))
    return (*nums, pre)


class NuGetVersionScheme:
    """NuGet versions; metadata after "+" is ignored, "1.0" equals "1.0.0.0"."""

    name: ClassVar[str] = "nuget"

    def key(self, text: str) -> tuple[object, ...]:
        """Ordering key; raises InvalidVersion for strings NuGetVersion.TryParse rejects."""
        return _key(text)
