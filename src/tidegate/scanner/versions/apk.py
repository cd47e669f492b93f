"""Alpine: apk-tools version ordering (digit{.digit}...{letter}{_suf{#}}...{~hash}{-r#}).

This follows the current apk-tools comparator. Tokens are compared pairwise while both
sides have the same kind of token; a dotted component with a leading zero compares as a
string (1.01 < 1.1, 8.2.0 < 8.2.001). When the kinds differ, a prerelease suffix (_alpha,
_beta, _pre, _rc) loses, and otherwise the side that goes on with an earlier kind of
component wins (1.0.1 > 1.0a > 1.0_p1 > 1.0-r1 > 1.0).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import ClassVar

from tidegate.scanner.versions.base import InvalidVersion

# Token kinds in apk-tools' order; a later kind loses when the two sides disagree.
_INITIAL, _DIGIT, _LETTER, _SUFFIX, _SUFFIX_NO, _HASH, _REVISION, _END = range(8)
_SUFFIXES = {
    "alpha": 1, "beta": 2, "pre": 3, "rc": 4,  # prereleases, below "no suffix" (5)
    "cvs": 6, "svn": 7, "git": 8, "hg": 9, "p": 10,
}  # fmt: skip
_NO_SUFFIX = 5
_PRE_RANK = -100

# One token each: what follows a given kind is checked in _next.
_TOKEN = re.compile(
    r"\.(?P<digit>[0-9]+)|(?P<letter>[a-z])|_(?P<suffix>[a-z]*)|(?P<suffix_no>[0-9]+)"
    r"|~(?P<hash>[0-9a-fA-F]+)|-r(?P<revision>[0-9]+)"
)
_INITIAL_RE = re.compile(r"[0-9]+")
_KIND_OF_GROUP = {
    "digit": _DIGIT, "letter": _LETTER, "suffix": _SUFFIX, "suffix_no": _SUFFIX_NO,
    "hash": _HASH, "revision": _REVISION,
}  # fmt: skip
# The latest kind that may precede each kind (apk-tools' validity rules).
_MAY_FOLLOW = {
    _DIGIT: _DIGIT,
    _LETTER: _DIGIT,
    _SUFFIX: _SUFFIX_NO,
    _HASH: _SUFFIX_NO,
    _REVISION: _HASH,
}


def _digit_value(text: str) -> tuple[int, int | str]:
    # With a leading zero on either side apk compares strings; every such string sorts
    # below every number without one, so the two groups never interleave.
    return (0, text) if text.startswith("0") else (1, int(text))


def _value(kind: int, text: str) -> object:
    if kind == _DIGIT:
        return _digit_value(text)
    if kind == _LETTER:
        return ord(text)
    if kind == _SUFFIX:
        return _SUFFIXES[text]
    if kind == _HASH:
        return text
    return int(text)


def _allowed(previous: int, kind: int) -> bool:
    # Suffix numbers only follow a suffix; everything else may follow any earlier kind.
    return previous == _SUFFIX if kind == _SUFFIX_NO else previous <= _MAY_FOLLOW[kind]


def _tokens(text: str) -> list[tuple[int, object]]:
    m = _INITIAL_RE.match(text)
    if m is None:
        raise InvalidVersion(text)
    out: list[tuple[int, object]] = [(_INITIAL, int(m.group()))]
    pos, kind = m.end(), _INITIAL
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.lastgroup is None:
            raise InvalidVersion(text)
        new, value = _KIND_OF_GROUP[m.lastgroup], m.group(m.lastgroup)
        if not _allowed(kind, new) or (new == _SUFFIX and value not in _SUFFIXES):
            raise InvalidVersion(text)
        out.append((new, _value(new, value)))
        pos, kind = m.end(), new
    return out


def _rank(kind: int, value: object) -> int:
    if kind == _SUFFIX and isinstance(value, int) and value < _NO_SUFFIX:
        return _PRE_RANK
    return -kind


@lru_cache(maxsize=65536)
def _key(text: str) -> tuple[object, ...]:
    tokens = _tokens(text)
    return (*((_rank(kind, value), value) for kind, value in tokens), (-_END, 0))


class ApkVersionScheme:
    """apk-tools versions as `apk version -t` orders them."""

    name: ClassVar[str] = "apk"

    def key(self, text: str) -> tuple[object, ...]:
        """Ordering key; raises InvalidVersion where apk's validator would say invalid."""
        return _key(text)
