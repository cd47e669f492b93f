"""Version schemes as comparison keys, and OSV-style affected ranges.

Every scheme parses a version string into a key with a total order; an unparsable version
raises `InvalidVersion`, and range evaluation turns that into `Verdict.UNKNOWN` (never into
"not affected").
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar, Protocol


class InvalidVersion(ValueError):
    """The text is not a version in this scheme."""


class Verdict(enum.Enum):
    """Outcome of checking one version against an advisory's affected data."""

    AFFECTED = "affected"
    NOT_AFFECTED = "not_affected"
    UNKNOWN = "unknown"


class VersionScheme(Protocol):
    """One ecosystem's version ordering, expressed as a sortable key."""

    name: ClassVar[str]  # "deb", "rpm", "apk", "pep440", "npm", "golang", "maven", "gem", ...

    def key(self, text: str) -> tuple[object, ...]:
        """A key whose tuple order is the scheme's version order; raises InvalidVersion."""
        ...


@dataclass(frozen=True, slots=True)
class RangeEvent:
    """One OSV range event; exactly one field is set."""

    introduced: str | None = None
    fixed: str | None = None
    last_affected: str | None = None
    limit: str | None = None


@dataclass(frozen=True, slots=True)
class AffectedRange:
    """An OSV `ranges[]` entry: type ECOSYSTEM, SEMVER or GIT, and its events in order."""

    type: str
    events: tuple[RangeEvent, ...]
