"""One vulnerability DB for every process sharing a PostgreSQL metadata DB.

Each process matches against a local directory of immutable SQLite versions (fast, no
network per lookup). An update runs in one process at a time (the VULNDB_UPDATE advisory
lock); its new version file is stored in `vulndb_versions`/`vulndb_chunks` in the same
transaction that makes it visible. Every other process polls the newest version number (one
indexed read), fetches what it lacks into its own directory, checks the file's sha256 and
publishes it there; its open stores then switch on their next `reopen`, exactly as after a
local `db update`. On SQLite everything here is a no-op: one host, one directory.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tidegate import schema as t
from tidegate import singletons
from tidegate.db import reading
from tidegate.scanner.vulndb import layout
from tidegate.scanner.vulndb.layout import UpdateInProgress
from tidegate.singletons import Singleton

log = logging.getLogger(__name__)

CHUNK_BYTES = 8 << 20
# As many as a directory keeps (manager.KEEP_VERSIONS): re-scans read the change sets of
# each version between the one they processed and the current one.
KEEP_VERSIONS = 3

T = TypeVar("T")


def latest(engine: Engine) -> int | None:
    """The newest shared version (None: none yet, or not a shared deployment)."""
    if not singletons.is_shared(engine):
        return None
    with reading(engine) as conn:
        value = conn.execute(sa.select(sa.func.max(t.vulndb_versions.c.version))).scalar()
    return None if value is None else int(value)


def publish(engine: Engine, root: Path, now: float | None = None) -> int | None:
    """Share the directory's current version if the database lacks it; returns it."""
    if not singletons.is_shared(engine):
        return None
    version = layout.current_version(root)
    if version is None:
        return None
    newest = latest(engine)
    if newest is not None and newest >= version:
        return newest
    path = layout.version_path(root, version)
    digest, size, chunks = hashlib.sha256(), 0, 0
    with engine.begin() as conn, path.open("rb") as fh:
        conn.execute(
            sa.insert(t.vulndb_versions).values(
                version=version, sha256="", size=0, chunks=0, published_at=now or time.time()
            )
        )
        while data := fh.read(CHUNK_BYTES):
            conn.execute(sa.insert(t.vulndb_chunks).values(version=version, seq=chunks, data=data))
            digest.update(data)
            size += len(data)
            chunks += 1
        conn.execute(
            sa.update(t.vulndb_versions)
            .where(t.vulndb_versions.c.version == version)
            .values(sha256=digest.hexdigest(), size=size, chunks=chunks)
        )
        old = sa.select(t.vulndb_versions.c.version).order_by(t.vulndb_versions.c.version.desc())
        keep = [row[0] for row in conn.execute(old.limit(KEEP_VERSIONS))]
        conn.execute(sa.delete(t.vulndb_versions).where(t.vulndb_versions.c.version.not_in(keep)))
    log.info("shared vulnerability DB version", extra={"fields": {"version": version}})
    return version


def sync(engine: Engine, root: Path) -> int | None:
    """Bring the local directory up to the newest shared version; returns the local current.

    Versions between the local and the newest are fetched too (their change sets drive the
    continuous re-scan). Skipped, and retried on the next call, while this host's own update
    holds the directory.
    """
    local = layout.current_version(root)
    newest = latest(engine)
    if newest is None or (local is not None and local >= newest):
        return local
    try:
        lock = layout.acquire_lock(root)
    except UpdateInProgress:
        return local
    try:
        local = layout.current_version(root)
        with reading(engine) as conn:
            rows = conn.execute(
                sa.select(t.vulndb_versions)
                .where(t.vulndb_versions.c.version > (local or 0))
                .order_by(t.vulndb_versions.c.version)
            ).all()
        for row in rows:
            _fetch(engine, root, row, final=row.version == rows[-1].version)
            local = row.version
        return local
    finally:
        lock.close()


def _fetch(engine: Engine, root: Path, row: sa.Row[tuple[object, ...]], *, final: bool) -> None:
    version: int = row.version
    # build-* names are what the next update's cleanup removes if this process dies here.
    partial = root / f"build-{os.getpid()}-fetch.sqlite"
    digest = hashlib.sha256()
    with partial.open("wb") as fh:
        for seq in range(row.chunks):
            with reading(engine) as conn:
                data = conn.execute(
                    sa.select(t.vulndb_chunks.c.data).where(
                        t.vulndb_chunks.c.version == version, t.vulndb_chunks.c.seq == seq
                    )
                ).scalar_one()
            digest.update(data)
            fh.write(data)
    if digest.hexdigest() != row.sha256:
        partial.unlink(missing_ok=True)
        msg = f"shared vulnerability DB version {version} does not match its sha256"
        raise ValueError(msg)
    if final:
        layout.publish(root, partial, version)
        layout.prune(root, KEEP_VERSIONS)
        log.info("fetched vulnerability DB version", extra={"fields": {"version": version}})
    else:
        layout.fsync_path(partial)
        partial.replace(layout.version_path(root, version))


def run_update(engine: Engine, root: Path, update: Callable[[], T]) -> T:
    """Run `update` (a `db update` or `db import` on `root`) as the one update anywhere.

    Catches up with the shared version first, so the new version numbers after it, then
    shares what `update` published. Raises UpdateInProgress when another process updates.
    """
    with singletons.hold(engine, Singleton.VULNDB_UPDATE) as held:
        if not held:
            msg = "another process is updating the vulnerability DB; try again later"
            raise UpdateInProgress(msg)
        sync(engine, root)
        result = update()
        publish(engine, root)
        return result


class Follower:
    """A thread keeping this process's DB directory at the shared version (PostgreSQL only)."""

    def __init__(self, engine: Engine, root: Path, interval: float = 2.0) -> None:
        self.engine = engine
        self.root = root
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not singletons.is_shared(self.engine):
            return
        self._thread = threading.Thread(target=self._run, name="vulndb-follower", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                sync(self.engine, self.root)
            except Exception:  # retried on the next round
                log.exception("fetching the shared vulnerability DB failed")
            self._stop.wait(self.interval)
