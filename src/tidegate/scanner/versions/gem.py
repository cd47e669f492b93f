"""RubyGems: Gem::Version ordering (segments padded with 0, letters before numbers)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import ClassVar

from tidegate.scanner.versions.base import InvalidVersion

_VERSION = re.compile(r"\s*[0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?\s*")
_SEGMENT = re.compile(r"[0-9]+|[a-zA-Z]+")

Segment = int | str


def _canonical(text: str) -> list[Segment]:
    """Gem::Version#canonical_segments: trailing zeros dropped from each of the two parts."""
    segments: list[Segment] = [
        int(s) if s.isdigit() else s for s in _SEGMENT.findall(text.strip().replace("-", ".pre."))
    ]
    first_str = next((i for i, s in enumerate(segments) if isinstance(s, str)), len(segments))
    numeric, rest = segments[:first_str], segments[first_str:]
    while numeric and numeric[-1] == 0:
        numeric.pop()
    while rest and rest[-1] == 0:
        rest.pop()
    return numeric + rest


def _encode(segments: list[Segment]) -> tuple[object, ...]:
    # Comparison pads the shorter side with 0, so a 0 must know what follows it: a run of
    # zeros then a string sorts below the padding, a run of zeros then a number above it.
    while segments and segments[-1] == 0:
        segments.pop()
    out: list[tuple[object, ...]] = []
    after = 0  # sign versus 0 of the first non-zero segment to the right
    for seg in reversed(segments):
        if isinstance(seg, str):
            out.append((0, seg))
            after = -1
        elif seg:
            out.append((1, seg, 0))
            after = 1
        else:
            out.append((1, 0, after))
    out.reverse()
    out.append((1, 0, 0))
    return tuple(out)


@lru_cache(maxsize=65536)
def _key(text: str) -> tuple[object, ...]:
    # Gem::Version also reads "" as "0"; an advisory never says "", so it is unparsable here.
    if not _VERSION.fullmatch(text):
        raise InvalidVersion(text)
    return _encode(_canonical(text))


class GemVersionScheme:
    """RubyGems versions; "1.0.a" is a prerelease of "1.0", "1.0-beta" is "1.0.pre.beta"."""

    name: ClassVar[str] = "gem"

    def key(self, text: str) -> tuple[object, ...]:
        """Ordering key; raises InvalidVersion where Gem::Version.correct? is false."""
        return _key(text)
