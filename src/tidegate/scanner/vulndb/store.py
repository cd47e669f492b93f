"""VulnStore: the read-only view of one published DB version.

Version files are immutable once published, so they are opened `immutable=1` (no locking),
and each key's fetched entries are cached (`PackageEntries`, decoded only as far as asked).
A long-running process polls `current_version()` (one small file read) and calls `reopen()`
when a new version appears.
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tidegate.errors import NotFound
from tidegate.scanner.vulndb import layout
from tidegate.scanner.vulndb.codec import decode_header, unpack
from tidegate.scanner.vulndb.diff import compare_files
from tidegate.scanner.vulndb.entries import PackageEntries
from tidegate.scanner.vulndb.headers import merge_headers
from tidegate.scanner.vulndb.model import Advisory
from tidegate.scanner.vulndb.updaters.feeds import precedence


class NoDatabase(NotFound):
    """No DB version has been published in this directory; run `tidegate db update`."""


class ChangesUnavailable(NotFound):
    """The version asked for is no longer kept, so its change set is unknown; re-scan all."""


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """One source as recorded in a version."""

    name: str
    status: str
    fingerprint: str
    records: int
    skipped: int
    error: str
    fetched_at: str
    data_version: int | None
    fallbacks: int = 0  # records kept whose rating word or CVSS vector was unusable


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """Identity and provenance of a DB version."""

    version: int
    previous: int | None
    built_at: str
    path: Path
    sources: tuple[SourceStatus, ...]


_PACKAGE = "SELECT data FROM packages WHERE namespace = ? AND name = ?"


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    # The file never changes once published: mapping it saves a read() copy per page on
    # every lookup (about a third of an uncached lookup's SQLite time).
    conn.execute("PRAGMA mmap_size=4294967296")
    return conn


class VulnStore:
    """Read-only access to the current (or a given) DB version."""

    def __init__(self, root: Path, version: int | None = None, cache_size: int = 65536) -> None:
        self.root = root
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[str, str], PackageEntries] = OrderedDict()
        self._open(version)

    def _open(self, version: int | None) -> None:
        chosen = version if version is not None else layout.current_version(self.root)
        path = layout.version_path(self.root, chosen) if chosen else None
        if chosen is None or path is None or not path.exists():
            msg = f"no vulnerability DB in {self.root}; run `tidegate db update`"
            raise NoDatabase(msg)
        self.version = chosen
        self.path = path
        self._conn = _connect(path)
        self._cache.clear()
        self._namespaces: dict[str, bool] = {}

    def close(self) -> None:
        """Release the file."""
        self._conn.close()

    def current_version(self) -> int | None:
        """The version published now (may be newer than the one this store has open)."""
        return layout.current_version(self.root)

    def reopen(self) -> bool:
        """Switch to the published version if it is newer; True when it switched.

        Decoded entries of keys the new version did not change stay cached: a daily update
        touches a few hundred keys, and a server should not decode every package again.
        """
        latest = layout.current_version(self.root)
        if latest is None or latest == self.version:
            return False
        old, previous, cached = self._conn, self.version, dict(self._cache)
        self._open(latest)
        old.close()
        try:
            changed = self.changes(previous)
        except NotFound:
            return True  # the older version is gone: start cold
        self._cache.update((k, v) for k, v in cached.items() if k not in changed)
        return True

    def package(self, namespace: str, name: str) -> PackageEntries:
        """One key's stored advisories, fetched (one indexed read) but not yet decoded.

        Cached per key: a fleet of images shares most of its packages.
        """
        key = (namespace, name)
        cache = self._cache
        hit = cache.get(key)
        if hit is not None:
            cache.move_to_end(key)
            return hit
        row = self._conn.execute(_PACKAGE, key).fetchone()
        found = PackageEntries(namespace, name, row[0]) if row else PackageEntries(namespace, name)
        cache[key] = found
        if len(cache) > self.cache_size:
            cache.popitem(last=False)
        return found

    def entries(self, namespace: str, name: str) -> list[list[Any]]:
        """The key's stored entries, undecoded (`codec.entry_row` arrays: id, aliases, ...).

        Comparing two versions' entries needs no Advisory objects: equal arrays are equal
        advisories.
        """
        return self.package(namespace, name).rows

    def lookup(self, namespace: str, name: str) -> list[Advisory]:
        """Advisories for one package key, one per vulnerability (details omitted; see get)."""
        return self.package(namespace, name).advisories()

    def _ids_of(self, vuln_id: str) -> set[str]:
        """The id and every stored id it is an alias of."""
        rows = self._conn.execute("SELECT DISTINCT id FROM aliases WHERE alias = ?", (vuln_id,))
        return {vuln_id} | {r[0] for r in rows}

    def _header(self, vuln_id: str, ids: set[str]) -> Advisory | None:
        marks = ",".join("?" * len(ids))
        rows = self._conn.execute(
            f"SELECT id, source, score, kev, data FROM src_vulns WHERE id IN ({marks})",
            sorted(ids),
        ).fetchall()
        if not rows:
            return None
        own = [r for r in rows if r[0] == vuln_id] or rows
        ranked = sorted(own, key=lambda r: (-precedence(r[1]), r[1]))
        score = next((r[2] for r in ranked if r[2] is not None), None)
        if score is None:
            score = next((r[2] for r in rows if r[2] is not None), None)
        headers = [decode_header(unpack(r[4])) for r in rows]
        return merge_headers(vuln_id, headers, score, kev=any(r[3] for r in rows))

    def header(self, vuln_id: str, aliases: Iterable[str] = ()) -> Advisory | None:
        """One vulnerability's description, CVSS vectors and references, without packages.

        What a matcher adds to its findings; None when no source describes the id.
        `aliases` (the merged entry's) add their records: a CVE's GHSA record carries
        GitHub's CVSS vector.
        """
        return self._header(vuln_id, self._ids_of(vuln_id) | set(aliases))

    def get(self, vuln_id: str) -> Advisory | None:
        """One vulnerability by id or alias, with its header and every affected package."""
        ids = self._ids_of(vuln_id)
        marks = ",".join("?" * len(ids))
        keys = self._conn.execute(
            f"SELECT DISTINCT namespace, name FROM vuln_keys WHERE id IN ({marks})"
            " ORDER BY namespace, name",
            sorted(ids),
        ).fetchall()
        affected = [
            pkg
            for ns, name in keys
            for adv in self.lookup(ns, name)
            if adv.id in ids or vuln_id in adv.aliases
            for pkg in adv.affected
        ]
        header = self._header(vuln_id, ids)
        if header is None:
            if not affected:
                return None
            header = merge_headers(vuln_id, [Advisory(id=vuln_id, source="")], None, kev=False)
        return replace(header, affected=tuple(affected))

    def has_namespace(self, namespace: str) -> bool:
        """Whether any advisory is stored under `namespace` (or, for a prefix ending in
        ":", under any namespace of that family)."""
        found = self._namespaces.get(namespace)
        if found is None:
            if namespace.endswith(":"):
                sql = "SELECT 1 FROM packages WHERE namespace >= ? AND namespace < ? LIMIT 1"
                args: tuple[str, ...] = (namespace, namespace[:-1] + ";")
            else:
                sql, args = "SELECT 1 FROM packages WHERE namespace = ? LIMIT 1", (namespace,)
            row = self._conn.execute(sql, args).fetchone()
            found = self._namespaces[namespace] = row is not None
        return found

    def version_info(self) -> VersionInfo:
        """Version, predecessor, build time and per-source status."""
        meta = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
        sources = tuple(
            SourceStatus(
                name=r[0], status=r[1], fingerprint=r[2] or "", records=r[3] or 0,
                skipped=r[4] or 0, error=r[5] or "", fetched_at=r[6] or "", data_version=r[7],
                fallbacks=r[8] or 0,
            )
            for r in self._conn.execute("SELECT * FROM sources ORDER BY name")
        )  # fmt: skip
        prev = meta.get("previous") or ""
        return VersionInfo(
            self.version, int(prev) if prev else None, meta.get("built_at", ""), self.path, sources
        )

    def counts(self) -> dict[str, int]:
        """Record counts: package keys, vulnerabilities, advisory records, aliases, changes."""
        queries = {
            "packages": "SELECT count(*) FROM packages",
            "vulnerabilities": "SELECT count(DISTINCT id) FROM vuln_keys",
            "advisory_records": "SELECT count(*) FROM src_vulns",
            "aliases": "SELECT count(*) FROM (SELECT DISTINCT alias, id FROM aliases)",
            "changed_keys": "SELECT count(*) FROM changes",
        }
        return {k: int(self._conn.execute(q).fetchone()[0]) for k, q in queries.items()}

    def skips(self, source: str | None = None) -> list[tuple[str, str, str]]:
        """Recorded skipped records as (source, location, reason)."""
        sql = "SELECT source, location, reason FROM skips"
        args: tuple[str, ...] = ()
        if source:
            sql, args = sql + " WHERE source = ?", (source,)
        return [(r[0], r[1], r[2]) for r in self._conn.execute(sql, args)]

    def changes(self, since_version: int) -> set[tuple[str, str]]:
        """Keys whose advisories changed after `since_version`, up to this store's version.

        Uses the change sets stored in each version while all are kept; otherwise compares
        with the `since_version` file directly; raises ChangesUnavailable if neither is kept.
        """
        if since_version >= self.version:
            return set()
        chain = range(since_version + 1, self.version + 1)
        paths = [layout.version_path(self.root, v) for v in chain]
        if all(p.exists() for p in paths):
            out: set[tuple[str, str]] = set()
            for p in paths:
                conn = _connect(p)
                try:
                    out.update(
                        (r[0], r[1]) for r in conn.execute("SELECT namespace, name FROM changes")
                    )
                finally:
                    conn.close()
            return out
        old = layout.version_path(self.root, since_version)
        if old.exists():
            return compare_files(self._conn, str(self.path), str(old))
        msg = f"version {since_version} is no longer kept; re-evaluate everything"
        raise ChangesUnavailable(msg)
