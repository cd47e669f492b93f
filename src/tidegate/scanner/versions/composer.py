"""Packagist: Composer's version normalisation followed by PHP version_compare ordering.

Composer pads the numeric part to four components and spells stabilities one way
(alpha, beta, RC, patch, dev); version_compare then ranks the special words
dev < alpha = a < beta = b < RC = rc < (a number) < patch = pl = p.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import ClassVar

from tidegate.scanner.versions.base import InvalidVersion

_CLASSICAL = re.compile(
    r"v?(?P<nums>[0-9]{1,5}(?:\.[0-9]+){0,3})"
    r"(?:[._-]?(?P<stab>stable|beta|b|rc|alpha|a|patch|pl|p)(?P<stab_n>(?:[.-]?[0-9]+)*))?"
    r"(?P<dev>[.-]?dev)?",
    re.IGNORECASE,
)
# version_compare's special forms, matched as prefixes in this order.
_SPECIAL = (("dev", 0), ("alpha", 1), ("a", 1), ("beta", 2), ("b", 2), ("rc", 3), ("pl", 5))
_SPECIAL_P = 5
_NUMBER = 4
_UNKNOWN = -1
# When one side runs out, version_compare weighs the other side's next part against "#".
_END = (_NUMBER, -1)


def _special(word: str) -> int:
    lowered = word.lower()
    for name, order in _SPECIAL:
        if lowered.startswith(name):
            return order
    return _SPECIAL_P if lowered.startswith("p") else _UNKNOWN


@lru_cache(maxsize=65536)
def _key(text: str) -> tuple[object, ...]:
    m = _CLASSICAL.fullmatch(text.strip())
    if m is None:
        raise InvalidVersion(text)
    nums = [int(n) for n in m["nums"].split(".")]
    parts: list[tuple[int, int]] = [(_NUMBER, n) for n in nums + [0] * (4 - len(nums))]
    stab = (m["stab"] or "").lower()
    if stab != "stable":  # Composer returns "stable" versions bare, dropping even "-dev"
        if stab:
            parts.append((_special(stab), 0))
            parts.extend((_NUMBER, int(n)) for n in re.findall(r"[0-9]+", m["stab_n"]))
        if m["dev"]:
            parts.append((0, 0))
    parts.append(_END)
    return tuple(parts)


class ComposerVersionScheme:
    """Composer (Packagist) release versions; branch names such as dev-main are unparsable."""

    name: ClassVar[str] = "composer"

    def key(self, text: str) -> tuple[object, ...]:
        """Ordering key; raises InvalidVersion for what Composer would not call a version."""
        return _key(text)
