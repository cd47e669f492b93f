"""Debian: dpkg version ordering ([epoch:]upstream[-revision], "~" before everything)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import ClassVar

from tidegate.scanner.versions.base import InvalidVersion

_UPSTREAM = re.compile(r"[0-9][A-Za-z0-9.+~:-]*")
_REVISION = re.compile(r"[A-Za-z0-9.+~]+")
_RUNS = re.compile(r"([^0-9]*)([0-9]*)")
# Characters compared with a weight: "~" lowest, then the end of the part, then letters,
# then everything else (deb-version(7)).
_END = 0
_DIGITS = re.compile(r"[0-9]+")


def _char_weight(c: str) -> int:
    if c == "~":
        return -1
    if c.isalpha():
        return ord(c)
    return ord(c) + 256


def _part_key(part: str) -> tuple[object, ...]:
    """Alternating non-digit and digit runs; the trailing marker stands for "nothing left"."""
    out: list[object] = []
    for text, digits in _RUNS.findall(part):
        if not text and not digits:
            continue
        out.append((*(_char_weight(c) for c in text), _END))
        out.append(int(digits) if digits else 0)
    if not out:
        # "" compares like "0": an empty run and a zero.
        out = [(_END,), 0]
    # After the last pair, any further text (even "~") decides against this marker.
    out.append((_END,))
    return tuple(out)


@lru_cache(maxsize=65536)
def _key(text: str) -> tuple[object, ...]:
    version = text.strip()
    epoch = 0
    if ":" in version:
        head, version = version.split(":", 1)
        if not _DIGITS.fullmatch(head):
            raise InvalidVersion(text)
        epoch = int(head)
    upstream, sep, revision = version.rpartition("-")
    if not sep:
        upstream, revision = version, ""
    elif not revision:
        raise InvalidVersion(text)
    if not _UPSTREAM.fullmatch(upstream) or (revision and not _REVISION.fullmatch(revision)):
        raise InvalidVersion(text)
    return (epoch, _part_key(upstream), _part_key(revision))


class DebVersionScheme:
    """dpkg versions as `dpkg --compare-versions` orders them."""

    name: ClassVar[str] = "deb"

    def key(self, text: str) -> tuple[object, ...]:
        """Ordering key; raises InvalidVersion for what dpkg would reject or warn about."""
        return _key(text)
