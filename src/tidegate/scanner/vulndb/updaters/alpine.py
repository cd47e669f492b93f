"""Alpine secdb: per-branch `main.json` / `community.json`, `secfixes` maps a fix to CVEs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tidegate.scanner import distributions
from tidegate.scanner.vulndb.fetch import fetch_location, fetch_many, is_url
from tidegate.scanner.vulndb.model import Advisory
from tidegate.scanner.vulndb.updaters.base import Fingerprint, Member, Parsed, Payload
from tidegate.scanner.vulndb.updaters.common import (
    CVE_RE,
    MalformedRecord,
    fixed_at,
    guarded,
    load_json,
    obj,
    req_str,
)

# secdb.alpinelinux.org has no machine-readable index, so URLs are built for every branch
# that has existed or may soon; missing ones answer 404 and are left out.
BRANCHES = (*(f"3.{n}" for n in range(2, 25)), "edge")
REPOS = ("main", "community")
NAMESPACE = distributions.feed_namespace("alpine-secdb")


@dataclass
class AlpineSecdbUpdater:
    """Alpine secdb from a mirror directory (`<3.19>/main.json`) or the upstream site.

    `upstream=True` spells branches `v3.19/` as secdb.alpinelinux.org does; a mirror laid
    out like the shared snapshot uses bare `3.19/`.
    """

    name: str
    location: str
    download_dir: Path
    upstream: bool = False

    def fetch(self, prior: Fingerprint | None, http: httpx.Client) -> tuple[Payload, Fingerprint]:
        """A directory or archive as is; a URL as one download per branch and repository."""
        if not is_url(self.location):
            return fetch_location(self.location, prior, http, self.download_dir)
        base = self.location.rstrip("/")
        urls: list[tuple[str, str]] = []
        for branch in BRANCHES:
            remote = f"v{branch}" if self.upstream and branch != "edge" else branch
            urls.extend((f"{branch}/{repo}.json", f"{base}/{remote}/{repo}.json") for repo in REPOS)
        return fetch_many(urls, prior, http, self.download_dir)

    def parse(self, payload: Payload) -> Iterator[Parsed]:
        """One advisory per (package, CVE) per branch file."""
        for member in payload.members():
            if member.path.endswith(".json"):
                yield from guarded(member, self._file(member))

    def _file(self, member: Member) -> Iterator[Advisory]:
        doc = obj(load_json(member), "secdb file")
        version = req_str(doc, "distroversion")
        namespace = f"{NAMESPACE}:{version}"
        packages = doc.get("packages")
        if not isinstance(packages, list):
            msg = "'packages' is not a list"
            raise MalformedRecord(msg)
        for raw in packages:
            pkg = obj(obj(raw, "package entry").get("pkg"), "pkg")
            name = req_str(pkg, "name")
            secfixes = obj(pkg.get("secfixes") or {}, "secfixes")
            for fixed, ids in secfixes.items():
                yield from self._fixes(namespace, name, str(fixed), ids)

    def _fixes(self, namespace: str, name: str, fixed: str, ids: object) -> Iterator[Advisory]:
        if not isinstance(ids, list):
            msg = f"secfixes[{fixed!r}] of {name} is not a list"
            raise MalformedRecord(msg)
        for text in ids:
            # Entries are "CVE-2021-1234", sometimes with notes or several ids per string.
            for vid in CVE_RE.findall(str(text)) or str(text).split()[:1]:
                if fixed == "0":
                    # "0": the package was never affected in Alpine; nothing to match.
                    continue
                entry = fixed_at(namespace, name, fixed)
                yield Advisory(id=vid, source=self.name, affected=(entry,))
