"""Go: module versions as golang.org/x/mod/semver orders them, plus Go toolchain versions.

Pseudo-versions (v0.0.0-20210101000000-abcdef123456) are ordinary prereleases and sort as
such; "+incompatible" is build metadata and does not take part in ordering. Toolchain
versions ("go1.21.3", "go1.21rc1", "1.21rc1") map onto the semver the Go vulnerability
database uses for the standard library (1.21.3, 1.21.0-rc.1).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import ClassVar

from tidegate.scanner.versions._semver import NUM, SemVer, parse_semver, precedence_key
from tidegate.scanner.versions.base import InvalidVersion

# x/mod/semver accepts "v1" and "v1.2" as shorthand for v1.0.0 and v1.2.0, without suffixes.
_SHORTHAND = re.compile(rf"v(?P<major>{NUM})(?:\.(?P<minor>{NUM}))?")
_TOOLCHAIN = re.compile(
    rf"(?:go)?(?P<major>{NUM})(?:\.(?P<minor>{NUM}))?(?:\.(?P<patch>{NUM}))?"
    rf"(?:(?P<kind>alpha|beta|rc)(?P<n>{NUM}))?"
)


def _parse_toolchain(text: str) -> SemVer:
    m = _TOOLCHAIN.fullmatch(text)
    if m is None:
        raise InvalidVersion(text)
    pre = (m["kind"], m["n"]) if m["kind"] else ()
    return SemVer(int(m["major"]), int(m["minor"] or 0), int(m["patch"] or 0), pre, ())


def _parse(text: str) -> SemVer:
    if text.startswith("go"):
        return _parse_toolchain(text)
    if text.startswith("v"):
        m = _SHORTHAND.fullmatch(text)
        if m is not None:
            return SemVer(int(m["major"]), int(m["minor"] or 0), 0, (), ())
        return parse_semver(text[1:])
    # OSV's Go ecosystem writes module versions without the "v"; toolchain forms follow.
    try:
        return parse_semver(text)
    except InvalidVersion:
        return _parse_toolchain(text)


@lru_cache(maxsize=65536)
def _key(text: str) -> tuple[object, ...]:
    return precedence_key(_parse(text))


class GoVersionScheme:
    """Go module and toolchain versions ordered by semver precedence."""

    name: ClassVar[str] = "golang"

    def key(self, text: str) -> tuple[object, ...]:
        """Precedence key; raises InvalidVersion for anything x/mod/semver rejects."""
        return _key(text)
