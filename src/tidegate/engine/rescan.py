"""Continuous re-scan: a new vulnerability-DB version re-evaluates only the images it touches.

The DB's change set names (namespace, package) keys; the inventory index maps each key to
the images containing it and the exact packages to re-match. Layers and whole inventories
are never read again. Findings that changed produce events; each image re-evaluated counts
as one re-scan.
"""

from __future__ import annotations

import gc
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from tidegate import schema as t
from tidegate.db import reading
from tidegate.engine import findings as store
from tidegate.engine import inventories, notify, scans, suppression, usage
from tidegate.engine.context import JobOutcome, ScanContext, VersionedVulnDb, vulndb_updated_at
from tidegate.engine.jobs import Job, enqueue
from tidegate.events.model import Origin
from tidegate.metrics import instruments
from tidegate.registry import metadata
from tidegate.scanner.match import Finding, match_targets
from tidegate.scanner.vulndb.entries import PackageEntries
from tidegate.scanner.vulndb.model import Advisory
from tidegate.scanner.vulndb.store import ChangesUnavailable, NoDatabase
from tidegate.states import JobKind, ScanFrequency, ScanStatus, ScanType

log = logging.getLogger(__name__)

PROCESSED_SETTING = "vulndb_rescanned_version"
BATCH = 1000  # images per round of reads and writes


@dataclass(frozen=True, slots=True)
class RescanReport:
    version: int
    changed_keys: int
    images: int
    images_changed: int
    events: int


def processed_version(conn: sa.Connection) -> int | None:
    raw = conn.execute(
        sa.select(t.registry_settings.c.value).where(
            t.registry_settings.c.name == PROCESSED_SETTING
        )
    ).scalar()
    return None if raw is None else int(json.loads(raw))


def claim_new_version(db: Engine, current: int, now: float) -> bool:
    """Compare-and-set the processed version; the winner enqueues the re-scan job."""
    with db.begin() as conn:
        seen = processed_version(conn)
        if seen == current:
            return False
        if seen is None:
            conn.execute(
                sa.insert(t.registry_settings).values(
                    name=PROCESSED_SETTING, value=json.dumps(current), updated_at=now
                )
            )
            return False  # first DB: images scanned from now on already use it
        updated = conn.execute(
            sa.update(t.registry_settings)
            .where(
                t.registry_settings.c.name == PROCESSED_SETTING,
                t.registry_settings.c.value == json.dumps(seen),
            )
            .values(value=json.dumps(current), updated_at=now)
        )
        if updated.rowcount != 1:
            return False
        enqueue(
            conn, kind=JobKind.RESCAN, repository_id=None, digest=f"vulndb-{current}",
            scan_type=ScanType.ENHANCED, reason="rescan", now=now,
            payload={"since": seen, "version": current},
        )  # fmt: skip
    return True


RESCAN_SETTING = "rescan_duration"  # {"days": N}: Inspector's UpdateConfiguration


def rescan_days(conn: sa.Connection, default: int) -> tuple[int, float | None]:
    """The continuous-scan window in days (0 = lifetime) and when it was last set: the
    stored one (Inspector UpdateConfiguration) or else `default` (the settings)."""
    row = conn.execute(
        sa.select(t.registry_settings.c.value, t.registry_settings.c.updated_at).where(
            t.registry_settings.c.name == RESCAN_SETTING
        )
    ).first()
    if row is None:
        return default, None
    return int(json.loads(row[0])["days"]), float(row[1])


def expire_due(db: Engine, default_days: int, now: float) -> int:
    """Expire the continuous images older than the configured duration (0 days = never);
    `default_days` applies unless Inspector's UpdateConfiguration stored one."""
    with db.begin() as conn:
        days, _ = rescan_days(conn, default_days)
        if days <= 0:
            return 0
        return scans.expire_images(conn, now - days * 86400)


class _Image(NamedTuple):
    id: int  # manifest id
    digest: str
    pushed_at: float
    severity_counts: str


def _continuous_images(conn: sa.Connection, digests: set[str]) -> dict[tuple[int, str], _Image]:
    """The ACTIVE continuous images among `digests`, with their manifest and stored counts.

    One pass over the continuous images rather than digest IN lists: image_scans and
    manifests are keyed by (repository, digest), so each IN list would scan a table anyway.
    """
    s, m = t.image_scans, t.manifests
    rows = conn.execute(
        sa.select(s.c.repository_id, s.c.digest, s.c.severity_counts, m.c.id, m.c.pushed_at)
        .join(m, sa.and_(m.c.repository_id == s.c.repository_id, m.c.digest == s.c.digest))
        .where(
            s.c.scan_type == ScanType.ENHANCED,
            s.c.frequency == ScanFrequency.CONTINUOUS_SCAN,
            s.c.status == ScanStatus.ACTIVE,
        )
    )
    return dict(
        sorted(
            ((int(r), str(d)), _Image(int(i), str(d), float(p), str(c or "{}")))
            for r, d, c, i, p in rows
            if d in digests
        )
    )


def run_rescan(ctx: ScanContext, job: Job) -> JobOutcome:
    """Re-match the images the DB change touches; returns the writes of every batch, which
    the runtime commits with the job's completion."""
    since, version = job.payload["since"], job.payload["version"]
    vulns = ctx.open_vulndb(version)
    try:
        with _collection_paused():
            return _rescan(ctx, vulns, since)
    finally:
        vulns.close()


@contextmanager
def _collection_paused() -> Iterator[None]:
    # The job holds ~10^5 objects (rows, findings, events) until it ends, when refcounting
    # frees them; meanwhile each automatic full collection walks all of them and frees
    # nothing (0.3 s of a 10,000-image re-scan). Collection is off for the job's duration
    # (process-wide, so for a few seconds other threads' cycles wait too).
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


class _ChangedOnly:
    """The new DB version seen through the change: per key, only advisories that changed."""

    def __init__(
        self, vulns: VersionedVulnDb, changed: dict[tuple[str, str], frozenset[str] | None]
    ) -> None:
        self.vulns = vulns
        self.changed = changed

    def package(self, namespace: str, name: str) -> PackageEntries:
        ids = self.changed.get((namespace, name), frozenset())
        if ids is None:
            return self.vulns.package(namespace, name)
        if not ids:
            return PackageEntries(namespace, name)
        return self.vulns.package(namespace, name).only(ids)

    def header(self, vuln_id: str, aliases: Iterable[str] = ()) -> Advisory | None:
        return self.vulns.header(vuln_id, aliases)


def changed_advisories(
    vulns: VersionedVulnDb,
    since: int,
    keys: set[tuple[str, str]],
    open_vulndb: Callable[[int], VersionedVulnDb],
) -> dict[tuple[str, str], frozenset[str] | None]:
    """Per changed key, the vulnerability ids (with aliases) whose entries differ between the
    versions; None for a key when the older version is gone (everything is re-evaluated)."""
    try:
        old = open_vulndb(since)
    except NoDatabase:
        return dict.fromkeys(keys)
    try:
        out: dict[tuple[str, str], frozenset[str] | None] = {}
        for key in keys:
            # Raw entries (id, aliases, ranges, ...) compare exactly as the decoded
            # advisories would, without building them.
            before = {e[0]: e for e in old.entries(*key)}
            after = {e[0]: e for e in vulns.entries(*key)}
            ids: set[str] = set()
            for vid in before.keys() | after.keys():
                if before.get(vid) != after.get(vid):
                    for entry in (before.get(vid), after.get(vid)):
                        if entry is not None:
                            ids |= {entry[0], *entry[1]}
            if ids:
                out[key] = frozenset(ids)
        return out
    finally:
        old.close()


def _rescan(ctx: ScanContext, vulns: VersionedVulnDb, since: int) -> JobOutcome:
    try:
        keys = vulns.changes(since)
    except ChangesUnavailable:
        # The older version is gone: treat every indexed key as changed.
        with reading(ctx.db) as conn:
            rows = conn.execute(
                sa.select(t.indexed_packages.c.namespace, t.indexed_packages.c.name).distinct()
            )
            keys = {(str(n), str(m)) for n, m in rows}
    expire_due(ctx.db, ctx.continuous_days, ctx.clock())
    changed = changed_advisories(vulns, since, keys, ctx.open_vulndb)
    view = _ChangedOnly(vulns, changed)
    all_ids: frozenset[str] | None = None
    if all(ids is not None for ids in changed.values()):
        all_ids = frozenset(i for ids in changed.values() if ids is not None for i in ids)
    with reading(ctx.db) as conn:
        packages = inventories.changed_packages(conn, set(changed))
        # Each distinct package is matched once, whatever number of images hold it.
        found = {pid: match_targets([target], view) for pid, target in packages.items()}
        hits = [pid for pid, f in found.items() if f]
        by_digest = inventories.packages_of_images(conn, hits)
        holding = inventories.images_with(conn, packages)
        repos = {r.id: r for r in metadata.list_repos(conn, after=None, limit=None)}
    now = ctx.clock()
    updated_at = vulndb_updated_at(vulns)
    version = vulns.version

    def record(conn: Connection) -> None:
        with _collection_paused():
            matched = _Rematch(changed, found, by_digest, holding, repos, all_ids)
            images, changed_images, events = _store(conn, ctx.origin, matched, now)
            scans.stamp_vulndb(conn, version, updated_at)
        report = RescanReport(version, len(keys), images, changed_images, events)
        instruments.RESCAN_IMAGES.inc(images)
        log.info("rescan complete", extra={"fields": asdict(report)})

    return record


@dataclass(frozen=True, slots=True)
class _Rematch:
    """What the read phase found, for the write phase."""

    changed: dict[tuple[str, str], frozenset[str] | None]  # key -> changed ids (None: all)
    found: dict[int, list[Finding]]  # indexed package id -> its findings now
    by_digest: dict[str, list[int]]  # image digest -> its packages with findings
    holding: set[str]  # digests of the images holding any changed package
    repos: dict[int, metadata.RepoRow]
    all_ids: frozenset[str] | None  # every changed id, None when some key changed wholly


def _store(conn: Connection, origin: Origin, m: _Rematch, now: float) -> tuple[int, int, int]:
    """Store the re-matched findings batch by batch; returns images, changed images, events."""
    changed, found, by_digest, repos = m.changed, m.found, m.by_digest, m.repos
    row_cache: store.RowCache = {}
    changed_images = events = 0
    # Read under the write lock: the severity counts are updated by delta below.
    counts = _continuous_images(conn, m.holding)
    images = list(counts)
    existing = (
        store.rows_of_vulnerabilities(conn, m.all_ids, set(images))
        if m.all_ids is not None
        else None
    )
    suppress = suppression.rules_clause(conn, origin, now)
    for start in range(0, len(images), BATCH):
        batch = images[start : start + BATCH]
        # Only images with a finding now or a stored one in scope can change; `changed`
        # is a superset of each image's scope (an image has rows only for its keys).
        items = [
            store.ImageFindings(
                repo_id, digest,
                [f for pid in by_digest.get(digest, ()) for f in found[pid]], changed,
            )
            for repo_id, digest in batch
            if digest in by_digest or existing is None or (repo_id, digest) in existing
        ]  # fmt: skip
        changes = store.store_many(
            conn, items, ScanType.ENHANCED, now, existing=existing, row_cache=row_cache,
            suppress=suppress,
        )  # fmt: skip
        scans.apply_severity_deltas(conn, changes, {k: counts[k].severity_counts for k in changes})
        # Exactly the batch: _continuous_images chose every such row of these digests.
        scans.mark_rescanned(conn, {d for _r, d in batch}, now)
        tell = [
            (repos[k[0]], counts[k], change)
            for k, change in changes.items()
            if change.any and k[0] in repos
        ]
        changed_images += len(tell)
        events += notify.finding_events_many(origin, conn, tell)
        usage.record_many(conn, [(repos[r].name, d) for r, d in batch if r in repos], "rescan", now)
    return len(images), changed_images, events
