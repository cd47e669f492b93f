"""Maven: ComparableVersion ordering (Maven 3.8), the one Maven Central and OSV use.

Items are integers, qualifiers or nested lists (a "-" or a digit/letter switch opens a
list); lists are padded with "null" when lengths differ, and how an item compares with
null depends on the item, so the order is exposed through a comparison object rather
than a flat tuple.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

from tidegate.scanner.versions.base import InvalidVersion

_INT, _STR, _LIST = range(3)
# An item is (kind, number, comparable qualifier, sublist); only its kind's field is used.
Item = tuple[int, int, str, tuple["Item", ...]]

_QUALIFIERS = ("alpha", "beta", "milestone", "rc", "snapshot", "", "sp")
_RELEASE_INDEX = str(_QUALIFIERS.index(""))
_ALIASES = {"ga": "", "final": "", "release": "", "cr": "rc"}
_SHORT = {"a": "alpha", "b": "beta", "m": "milestone"}
_KIND_RANK = {_STR: 0, _LIST: 1, _INT: 2}
_ZERO: Item = (_INT, 0, "", ())


def _qualifier(text: str, *, followed_by_digit: bool) -> Item:
    if followed_by_digit and len(text) == 1:
        text = _SHORT.get(text, text)
    text = _ALIASES.get(text, text)
    if text in _QUALIFIERS:
        # Known qualifiers compare by position, unknown ones after all of them, by name.
        return (_STR, 0, str(_QUALIFIERS.index(text)), ())
    return (_STR, 0, f"{len(_QUALIFIERS)}-{text}", ())


def _item(text: str, *, digits: bool) -> Item:
    return (_INT, int(text), "", ()) if digits else _qualifier(text, followed_by_digit=False)


def _is_null(item: Item) -> bool:
    kind, number, qualifier, sublist = item
    if kind == _INT:
        return number == 0
    if kind == _STR:
        return qualifier == _RELEASE_INDEX
    return not sublist


def _normalize(items: list[Item]) -> tuple[Item, ...]:
    # Trailing nulls go, also those hidden behind a trailing non-null sublist.
    i = len(items) - 1
    while i >= 0:
        if _is_null(items[i]):
            del items[i]
        elif items[i][0] != _LIST:
            break
        i -= 1
    return tuple(items)


class _Builder:
    """Nested lists under construction; `close` normalizes innermost first."""

    def __init__(self) -> None:
        self.stack: list[list[Item]] = [[]]

    def add(self, item: Item) -> None:
        self.stack[-1].append(item)

    def open(self) -> None:
        self.stack.append([])

    def close(self) -> tuple[Item, ...]:
        while len(self.stack) > 1:
            inner = _normalize(self.stack.pop())
            self.stack[-1].append((_LIST, 0, "", inner))
        return _normalize(self.stack[0])


def _parse(version: str) -> tuple[Item, ...]:
    b = _Builder()
    digits, start = False, 0
    for i, c in enumerate(version):
        if c in ".-":
            b.add(_ZERO if i == start else _item(version[start:i], digits=digits))
            start = i + 1
            if c == "-":
                b.open()
        elif c.isdecimal():
            if not digits and i > start:
                if b.stack[-1]:
                    b.open()  # ".X1" reads as "-X1", as at the end of the string
                b.add(_qualifier(version[start:i], followed_by_digit=True))
                start = i
                b.open()
            digits = True
        else:
            if digits and i > start:
                b.add(_item(version[start:i], digits=True))
                start = i
                b.open()
            digits = False
    if len(version) > start:
        if not digits and b.stack[-1]:
            # Maven 3.8 reads a trailing ".X" qualifier as "-X": 1.0.RC1 sorts like 1.0-RC1.
            b.open()
        b.add(_item(version[start:], digits=digits))
    return b.close()


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


def _cmp_null(a: Item) -> int:
    kind, number, qualifier, sublist = a
    if kind == _INT:
        return 1 if number else 0
    if kind == _STR:
        return (qualifier > _RELEASE_INDEX) - (qualifier < _RELEASE_INDEX)
    for item in sublist:
        r = _cmp_null(item)
        if r:
            return r
    return 0


def _cmp(a: Item, b: Item) -> int:
    if a[0] != b[0]:
        # Across kinds: integer > list > qualifier.
        return _sign(_KIND_RANK[a[0]] - _KIND_RANK[b[0]])
    if a[0] == _LIST:
        return _cmp_lists(a[3], b[3])
    # Same kind: the unused fields are equal, so plain tuple order decides.
    return (a > b) - (a < b)


def _cmp_lists(a: tuple[Item, ...], b: tuple[Item, ...]) -> int:
    for i in range(max(len(a), len(b))):
        if i >= len(a):
            r = -_cmp_null(b[i])
        elif i >= len(b):
            r = _cmp_null(a[i])
        else:
            r = _cmp(a[i], b[i])
        if r:
            return r
    return 0


@dataclass(frozen=True, slots=True, eq=False)
class MavenKey:
    """A parsed ComparableVersion; compares exactly as Maven's compareTo does."""

    items: tuple[Item, ...]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MavenKey) and _cmp_lists(self.items, other.items) == 0

    def __lt__(self, other: MavenKey) -> bool:
        return _cmp_lists(self.items, other.items) < 0

    def __le__(self, other: MavenKey) -> bool:
        return _cmp_lists(self.items, other.items) <= 0

    def __gt__(self, other: MavenKey) -> bool:
        return _cmp_lists(self.items, other.items) > 0

    def __ge__(self, other: MavenKey) -> bool:
        return _cmp_lists(self.items, other.items) >= 0

    # After normalization a non-empty list never compares equal to "null" and different
    # kinds never compare equal, so compareTo == 0 means equal structure: hash the items.
    def __hash__(self) -> int:
        return hash(self.items)


@lru_cache(maxsize=65536)
def _key(text: str) -> tuple[object, ...]:
    version = text.strip()
    if not version:
        raise InvalidVersion(text)
    return (MavenKey(_parse(version.lower())),)


class MavenVersionScheme:
    """Maven versions; every non-empty string is a version, as in Maven itself."""

    name: ClassVar[str] = "maven"

    def key(self, text: str) -> tuple[object, ...]:
        """A one-element tuple holding a MavenKey; raises InvalidVersion only for ""."""
        return _key(text)
