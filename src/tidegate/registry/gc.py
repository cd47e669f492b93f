"""Mark-and-sweep garbage collection of blobs and upload sessions, safe beside a live server.

A blob is garbage when no manifest in any repository references it (as config, layer or
the manifest itself) and nothing has started to depend on it for `grace` seconds. Each
removal is a conditional DELETE that re-checks those facts inside its own transaction, and
a manifest push bumps `blobs.last_used_at` in its transaction, so a push racing the sweep
either keeps the blob or fails cleanly with MANIFEST_BLOB_UNKNOWN. Bytes are removed from
storage only after their row is gone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tidegate import schema as t
from tidegate.db import reading
from tidegate.oci.digest import Digest
from tidegate.registry.storage.base import BlobStore

log = logging.getLogger(__name__)

ORPHAN_MIN_AGE = 600.0  # seconds


@dataclass
class GcReport:
    blobs_removed: list[str] = field(default_factory=list)
    bytes_freed: int = 0
    orphan_files_removed: list[str] = field(default_factory=list)
    uploads_removed: list[str] = field(default_factory=list)


def _unreferenced(cutoff: float) -> sa.ColumnElement[bool]:
    referenced = sa.exists().where(t.manifest_refs.c.digest == t.blobs.c.digest)
    is_manifest = sa.exists().where(t.manifests.c.digest == t.blobs.c.digest)
    return sa.and_(t.blobs.c.last_used_at < cutoff, ~referenced, ~is_manifest)


def collect_garbage(
    engine: Engine,
    store: BlobStore,
    *,
    grace: float = 3600.0,
    upload_expiry: float = 24 * 3600.0,
    dry_run: bool = False,
    clock: Callable[[], float] = time.time,
) -> GcReport:
    """Remove unreferenced blobs, stale upload sessions and orphaned files."""
    now = clock()
    cutoff = now - grace
    report = GcReport()
    with reading(engine) as conn:
        candidates = conn.execute(
            sa.select(t.blobs.c.digest, t.blobs.c.size).where(_unreferenced(cutoff))
        ).all()
    for digest, size in candidates:
        if not dry_run:
            with engine.begin() as conn:
                gone = conn.execute(
                    sa.delete(t.blobs).where(t.blobs.c.digest == digest, _unreferenced(cutoff))
                ).rowcount
            if gone != 1:
                continue  # something started using it meanwhile
            store.delete(Digest(digest))
        report.blobs_removed.append(digest)
        report.bytes_freed += int(size)
    # Bytes reach storage a moment before their row commits (an upload's directory, a blob
    # renamed into place, a manifest): files without a row are only garbage once they are
    # older than that moment could possibly be, whatever grace the caller chose.
    orphan_cutoff = now - max(grace, ORPHAN_MIN_AGE)
    _sweep_orphans(engine, store, orphan_cutoff, dry_run, report)
    _expire_uploads(engine, store, now - upload_expiry, orphan_cutoff, dry_run, report)
    log.info(
        "gc finished",
        extra={
            "fields": {
                "blobs": len(report.blobs_removed),
                "bytes": report.bytes_freed,
                "orphans": len(report.orphan_files_removed),
                "uploads": len(report.uploads_removed),
                "dry_run": dry_run,
            }
        },
    )
    return report


def _sweep_orphans(
    engine: Engine, store: BlobStore, cutoff: float, dry_run: bool, report: GcReport
) -> None:
    """Files with no row: left by a crash between writing bytes and committing metadata."""
    for info in store.walk():
        if info.modified_at >= cutoff:
            continue
        with reading(engine) as conn:
            known = conn.execute(
                sa.select(t.blobs.c.digest).where(t.blobs.c.digest == info.digest)
            ).first()
        if known is None:
            if not dry_run:
                store.delete(info.digest)
            report.orphan_files_removed.append(info.digest)


def _expire_uploads(
    engine: Engine,
    store: BlobStore,
    expired_before: float,
    cutoff: float,
    dry_run: bool,
    report: GcReport,
) -> None:
    with reading(engine) as conn:
        rows = conn.execute(sa.select(t.uploads.c.id, t.uploads.c.updated_at)).all()
    for upload_id, updated in rows:
        if updated < expired_before:
            if not dry_run:
                with engine.begin() as conn:
                    conn.execute(
                        sa.delete(t.uploads).where(
                            t.uploads.c.id == upload_id, t.uploads.c.updated_at < expired_before
                        )
                    )
                store.upload_discard(upload_id)
            report.uploads_removed.append(upload_id)
    known = {upload_id for upload_id, _ in rows}
    for upload_id, modified in store.upload_ids():
        if upload_id not in known and modified < cutoff:
            if not dry_run:
                store.upload_discard(upload_id)
            report.uploads_removed.append(upload_id)
