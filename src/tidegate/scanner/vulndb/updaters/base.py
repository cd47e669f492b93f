"""The Updater seam: fetch a source (conditionally) and parse it into advisories."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NewType, Protocol

import httpx

from tidegate.errors import ErrorCode, TidegateError
from tidegate.scanner.vulndb.model import Advisory

Fingerprint = NewType("Fingerprint", str)


class Unchanged(Exception):
    """Raised by `fetch` when the source has not changed since the `prior` fingerprint.

    The manager then carries the source's data over from the previous DB version.
    """


class UpdaterError(TidegateError):
    """A source could not be fetched or read as a whole (HTTP error, truncated download,
    bad zip or tar). It fails only that source; its previous data is carried over."""

    code = ErrorCode.UPDATE_FAILED


@dataclass(frozen=True, slots=True)
class Member:
    """One file inside a payload: its path and a reader for its bytes."""

    path: str
    read: Callable[[], bytes]


class Payload(Protocol):
    """The files of a fetched source, streamed one at a time, in source order."""

    def members(self) -> Iterator[Member]:
        """Yield every regular file; raises UpdaterError if the container is corrupt."""
        ...

    def close(self) -> None:
        """Release files and temporary downloads."""
        ...


@dataclass(frozen=True, slots=True)
class Skipped:
    """A record the parser could not use: where it was and why. Counted, never fatal."""

    where: str
    reason: str


@dataclass(frozen=True, slots=True)
class Fallback:
    """A record kept although one field was unusable (an unknown rating word, a malformed
    CVSS vector): the severity rule fell back past it. Counted, never fatal."""

    where: str
    reason: str


Parsed = Advisory | Skipped | Fallback  # what `Updater.parse` yields


class Updater(Protocol):
    """One vulnerability source. `name` is stored with every record it produces."""

    name: str

    def fetch(self, prior: Fingerprint | None, http: httpx.Client) -> tuple[Payload, Fingerprint]:
        """Open the source; raise Unchanged if it matches `prior`, UpdaterError on failure."""
        ...

    def parse(self, payload: Payload) -> Iterator[Parsed]:
        """Turn the payload into advisories; malformed records come out as `Skipped`,
        unusable fields of kept records as `Fallback`."""
        ...
