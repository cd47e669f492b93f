"""The shape three updaters share: fetch a location, parse each `.json` member on its own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tidegate.scanner.vulndb.fetch import fetch_location
from tidegate.scanner.vulndb.updaters.base import Fingerprint, Member, Parsed, Payload
from tidegate.scanner.vulndb.updaters.common import guarded


@dataclass
class JsonFilesUpdater:
    """One JSON document per member (directory, archive or URL); subclasses parse one."""

    name: str
    location: str
    download_dir: Path

    def fetch(self, prior: Fingerprint | None, http: httpx.Client) -> tuple[Payload, Fingerprint]:
        """Fetch the location; see `fetch_location`."""
        return fetch_location(self.location, prior, http, self.download_dir)

    def parse(self, payload: Payload) -> Iterator[Parsed]:
        """The advisories of every `.json` member; a bad member is skipped and counted."""
        for member in payload.members():
            if member.path.endswith(".json"):
                yield from guarded(member, self.records(member))

    def records(self, member: Member) -> Iterator[Parsed]:
        """The advisories in one member (and its fallbacks); raises for a malformed one."""
        raise NotImplementedError
