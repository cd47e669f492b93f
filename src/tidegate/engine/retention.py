"""What becomes of an image's scan data when the image is deleted, and how long it is kept.

Inspector's rules: deleting an image closes its findings at once (each closing is an
`Inspector2 Finding` event for an enhanced scan) and removes them three days later; findings
closed for any other reason (fixed, advisory withdrawn) are removed after 30 days, and a
closed finding that recurs before then reopens. The inventory of a digest that no repository
holds any more goes too, and so do the shared rows nothing references after that: indexed
packages of the re-scan index and finding texts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from tidegate import schema as t
from tidegate.engine import findings as store
from tidegate.engine import notify, scans
from tidegate.events.model import Origin
from tidegate.registry import metadata
from tidegate.registry.metadata import ManifestRow, RepoRow
from tidegate.registry.service import DeletedImage, DeleteHook
from tidegate.states import FindingStatus, ScanType

log = logging.getLogger(__name__)

DAY = 86400.0
DELETED_IMAGE_DAYS = 3
CLOSED_FINDING_DAYS = 30


def delete_hook(origin: Origin, clock: Callable[[], float]) -> DeleteHook:
    """The registry delete hook: an image that is gone (not just a tag) closes its findings."""

    def on_delete(conn: Connection, image: DeletedImage) -> None:
        repo, row = image.repo, image.manifest
        if metadata.find_manifest(conn, repo.id, row.digest) is not None:
            return  # a tag was removed; the image stays
        close_image(origin, conn, repo, row, image.tags, clock())

    return on_delete


def close_image(
    origin: Origin,
    conn: Connection,
    repo: RepoRow,
    row: ManifestRow,
    tags: tuple[str, ...],
    now: float,
) -> int:
    """Close the deleted image's active findings and drop its scan state; returns closed."""
    scan_type = scans.scan_type_of(conn, repo.id, row.digest)
    if scan_type is None:
        return 0  # never scanned
    changes = store.store_findings(conn, repo.id, row.digest, scan_type, [], now)
    if scan_type == ScanType.ENHANCED and changes.closed:
        notify.finding_events(origin, conn, repo, row, changes, tags=list(tags))
    scans.forget(conn, repo.id, row.digest)
    return len(changes.closed)


@dataclass
class PurgeReport:
    """Rows removed (or, for `findings_closed`, closed) by one `purge`."""

    findings_closed: int = 0
    findings_removed: int = 0
    scans_removed: int = 0
    inventories_removed: int = 0
    indexed_packages_removed: int = 0
    finding_texts_removed: int = 0


def _image_exists(table: sa.Table) -> sa.Exists:
    """Whether the image a row of `table` (by repository_id and digest) names still exists."""
    m = t.manifests
    return sa.exists().where(
        m.c.repository_id == table.c.repository_id, m.c.digest == table.c.digest
    )


def _statements(now: float) -> list[tuple[str, sa.Executable]]:
    f, m = t.findings, t.manifests
    inv, links, pkgs, texts = (
        t.image_inventories,
        t.inventory_packages,
        t.indexed_packages,
        t.finding_details,
    )
    old_closed = f.c.updated_at < now - CLOSED_FINDING_DAYS * DAY
    old_deleted = sa.and_(f.c.updated_at < now - DELETED_IMAGE_DAYS * DAY, ~_image_exists(f))
    return [
        # Images deleted before deletion closed findings, or while a scan was finishing.
        (
            "findings_closed",
            sa.update(f)
            .where(
                f.c.status.in_((FindingStatus.ACTIVE, FindingStatus.SUPPRESSED)), ~_image_exists(f)
            )
            .values(status=FindingStatus.CLOSED, updated_at=now),
        ),
        (
            "findings_removed",
            sa.delete(f).where(f.c.status == FindingStatus.CLOSED, old_closed | old_deleted),
        ),
        ("scans_removed", scans.removal_of_orphans()),
        (
            "inventories_removed",
            sa.delete(inv).where(~sa.exists().where(m.c.digest == inv.c.digest)),
        ),
        ("", sa.delete(links).where(~sa.exists().where(m.c.digest == links.c.digest))),
        (
            "indexed_packages_removed",
            sa.delete(pkgs).where(~sa.exists().where(links.c.package_id == pkgs.c.id)),
        ),
        (
            "finding_texts_removed",
            sa.delete(texts).where(~sa.exists().where(f.c.details_id == texts.c.id)),
        ),
    ]


def purge(engine: Engine, now: float, *, dry_run: bool = False) -> PurgeReport:
    """Apply the retention rules once; safe beside a running server.

    Each step is one statement in its own transaction whose condition is evaluated under
    that statement's locks, so a push or scan committing meanwhile keeps what it uses (on
    PostgreSQL a scan that raced a removal fails its transaction and the queue retries it).
    A dry run executes every step in one transaction and rolls it back.
    """
    report = PurgeReport()
    steps = _statements(now)
    if dry_run:
        with engine.connect() as conn, conn.begin() as tx:
            counts = [conn.execute(stmt).rowcount or 0 for _, stmt in steps]
            tx.rollback()
    else:
        counts = []
        for _, stmt in steps:
            with engine.begin() as conn:
                counts.append(conn.execute(stmt).rowcount or 0)
    for (name, _), count in zip(steps, counts, strict=True):
        if name:
            setattr(report, name, count)
    log.info("retention purge", extra={"fields": {**report.__dict__, "dry_run": dry_run}})
    return report
