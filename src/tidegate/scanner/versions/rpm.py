"""RPM: rpmvercmp ordering of [epoch:]version[-release], including "~" and "^"."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import ClassVar

from tidegate.scanner.versions.base import InvalidVersion

# Alphanumeric runs are segments; "~" and "^" are tokens; other characters only separate.
_TOKENS = re.compile(r"[0-9]+|[A-Za-z]+|~|\^")
_ALLOWED = re.compile(r"[A-Za-z0-9._+~^]+")
# Token classes in rpmvercmp's order: "~" sorts before the end of the string, "^" after
# the end but before any further segment, letters before digits.
_TILDE = (0,)
_END = (1,)
_CARET = (2,)
_ALPHA = 3
_NUM = 4
_DIGITS = re.compile(r"[0-9]+")


def _part_key(part: str) -> tuple[object, ...]:
    out: list[object] = []
    for tok in _TOKENS.findall(part):
        if tok == "~":
            out.append(_TILDE)
        elif tok == "^":
            out.append(_CARET)
        elif tok.isdigit():
            out.append((_NUM, int(tok)))
        else:
            out.append((_ALPHA, tok))
    out.append(_END)
    return tuple(out)


@lru_cache(maxsize=65536)
def _key(text: str) -> tuple[object, ...]:
    version = text.strip()
    epoch = 0
    head, colon, rest = version.partition(":")
    if colon:
        if not _DIGITS.fullmatch(head):
            raise InvalidVersion(text)
        epoch, version = int(head), rest
    ver, dash, release = version.rpartition("-")
    if not dash:
        ver, release = version, ""
    elif not release:
        raise InvalidVersion(text)
    if not _ALLOWED.fullmatch(ver) or (release and not _ALLOWED.fullmatch(release)):
        raise InvalidVersion(text)
    return (epoch, _part_key(ver), _part_key(release))


class RpmVersionScheme:
    """RPM EVR ordering as rpm's labelCompare; a missing epoch is 0, a missing release ""."""

    name: ClassVar[str] = "rpm"

    def key(self, text: str) -> tuple[object, ...]:
        """Ordering key; raises InvalidVersion for empty parts or characters rpm never emits."""
        return _key(text)
