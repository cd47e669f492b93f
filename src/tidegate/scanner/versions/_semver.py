"""The SemVer 2.0.0 grammar and precedence shared by npm, Cargo, Go and NuGet.

Each scheme adds its own front door (a "v" prefix, 4-part versions, shorthand forms) and
then hands the core triple and prerelease identifiers to `precedence_key`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tidegate.scanner.versions.base import InvalidVersion

# SemVer 2.0.0 section 2 and 9: numbers without leading zeros, identifiers of [0-9A-Za-z-].
NUM = r"0|[1-9][0-9]*"
_PRE_ID = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
_BUILD_ID = r"[0-9A-Za-z-]+"
SEMVER_RE = re.compile(
    rf"(?P<major>{NUM})\.(?P<minor>{NUM})\.(?P<patch>{NUM})"
    rf"(?:-(?P<pre>{_PRE_ID}(?:\.{_PRE_ID})*))?"
    rf"(?:\+(?P<build>{_BUILD_ID}(?:\.{_BUILD_ID})*))?"
)

# A release sorts after every prerelease of the same triple (SemVer 2.0.0 section 11.3).
RELEASE = (1,)


@dataclass(frozen=True, slots=True)
class SemVer:
    """A parsed SemVer 2.0.0 version; build metadata is kept but never ordered."""

    major: int
    minor: int
    patch: int
    pre: tuple[str, ...]
    build: tuple[str, ...]


def parse_semver(text: str, *, limit: int | None = None) -> SemVer:
    """Parse strict SemVer 2.0.0; `limit` caps each number (npm and Cargo have one)."""
    m = SEMVER_RE.fullmatch(text)
    if m is None:
        raise InvalidVersion(text)
    parts = (int(m["major"]), int(m["minor"]), int(m["patch"]))
    if limit is not None and any(p > limit for p in parts):
        raise InvalidVersion(text)
    pre = tuple(m["pre"].split(".")) if m["pre"] else ()
    build = tuple(m["build"].split(".")) if m["build"] else ()
    return SemVer(*parts, pre, build)


def identifier_key(ident: str) -> tuple[int, int | str]:
    """Numeric identifiers sort numerically and before alphanumeric ones (section 11.4)."""
    if ident.isdigit():
        return (0, int(ident))
    return (1, ident)


def prerelease_key(pre: tuple[str, ...]) -> tuple[object, ...]:
    """No prerelease beats any prerelease; otherwise identifiers compare left to right."""
    if not pre:
        return RELEASE
    return (0, tuple(identifier_key(i) for i in pre))


def precedence_key(v: SemVer) -> tuple[object, ...]:
    """SemVer precedence: the triple, then the prerelease; build metadata is ignored."""
    return (v.major, v.minor, v.patch, prerelease_key(v.pre))
