"""When images get scanned, and the scan status ECR reports (imageScanStatus).

Statuses follow ECR: BASIC goes PENDING -> IN_PROGRESS -> COMPLETE | FAILED |
UNSUPPORTED_IMAGE; ENHANCED goes PENDING -> IN_PROGRESS -> COMPLETE (scan on push or a
one-off manual scan) or ACTIVE (continuous: scanned and monitored).
"""

from __future__ import annotations

import json
import time

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tidegate import schema as t
from tidegate.db import update_or_insert
from tidegate.engine import jobs
from tidegate.engine.policy import (
    ScanFrequency,
    ScanType,
    check_basic_scan_quota,
    effective_scanning,
    load_configuration,
)
from tidegate.errors import Unsupported
from tidegate.registry.image_scans import PENDING_DESCRIPTION, ScanState
from tidegate.registry.metadata import ManifestRow, RepoRow
from tidegate.registry.service import PushedImage

DESCRIPTIONS = {
    "IN_PROGRESS": "The scan is in progress.",
    "COMPLETE": "The scan was completed successfully.",
    "ACTIVE": "Continuous scan is selected for image.",
}


def _upsert(conn: Connection, repo_id: int, digest: str, **values: object) -> None:
    update_or_insert(conn, t.image_scans, {"repository_id": repo_id, "digest": digest}, values)


def request_scan(
    conn: Connection,
    repo: RepoRow,
    digest: str,
    *,
    scan_type: str,
    frequency: str,
    reason: str,
    now: float,
) -> ScanState:
    """Record a PENDING scan and enqueue its job in the caller's transaction."""
    values: dict[str, object] = {
        "scan_type": scan_type,
        "status": "PENDING",
        "description": PENDING_DESCRIPTION,
        "requested_at": now,
        "frequency": frequency,
    }
    if scan_type == "BASIC" or reason == "manual":
        values["last_basic_scan_at"] = now  # counts toward the one-per-24-h quota
    _upsert(conn, repo.id, digest, **values)
    jobs.enqueue(
        conn, kind="scan", repository_id=repo.id, digest=digest, scan_type=scan_type,
        reason=reason, now=now,
    )  # fmt: skip
    return ScanState(scan_type, "PENDING", PENDING_DESCRIPTION, now, None)


def on_push(conn: Connection, image: PushedImage) -> None:
    """Push hook: scan on push / continuous repositories get a scan job with the push."""
    if not image.created or image.parsed.is_index:
        return
    config = load_configuration(conn)
    eff = effective_scanning(config, image.repo.name, image.repo.scan_on_push)
    if eff.frequency is ScanFrequency.MANUAL:
        return
    request_scan(
        conn, image.repo, image.manifest.digest, scan_type=config.scan_type.value,
        frequency=eff.frequency.value, reason="push", now=image.manifest.pushed_at,
    )  # fmt: skip


def start_manual_scan(conn: Connection, repo: RepoRow, row: ManifestRow) -> ScanState:
    """StartImageScan: one scan per image per 24 h; continuous/on-push ENHANCED refuse it."""
    now = time.time()
    config = load_configuration(conn)
    eff = effective_scanning(config, repo.name, repo.scan_on_push)
    if config.scan_type is ScanType.ENHANCED and eff.frequency is not ScanFrequency.MANUAL:
        msg = (
            f"The repository '{repo.name}' is scanned by {eff.frequency.value} enhanced "
            "scanning; manual scans apply only to repositories with MANUAL frequency."
        )
        raise Unsupported(msg)
    last = conn.execute(
        sa.select(t.image_scans.c.last_basic_scan_at, t.image_scans.c.status).where(
            t.image_scans.c.repository_id == repo.id, t.image_scans.c.digest == row.digest
        )
    ).first()
    if last is not None and last.status != "FAILED":  # a failed scan does not use the quota
        check_basic_scan_quota(last.last_basic_scan_at, now)
    return request_scan(
        conn, repo, row.digest, scan_type=config.scan_type.value, frequency=eff.frequency.value,
        reason="manual", now=now,
    )  # fmt: skip


def give_up(conn: Connection, repo_id: int, digest: str, reason: str, now: float) -> None:
    """The scan's job ran out of retries: a PENDING or IN_PROGRESS scan ends FAILED with why.

    Only a scan still under way is touched, so a deleted image gets no row back and a scan
    that already ended keeps its outcome.
    """
    s = t.image_scans
    conn.execute(
        sa.update(s)
        .where(
            s.c.repository_id == repo_id,
            s.c.digest == digest,
            s.c.status.in_(("PENDING", "IN_PROGRESS")),
        )
        .values(status="FAILED", description=reason[:512], completed_at=now)
    )


def mark(conn: Connection, repo_id: int, digest: str, status: str, description: str = "",
         **values: object) -> None:  # fmt: skip
    """Move the image's scan to `status` (with ECR's wording unless a reason is given).

    Only an existing scan row moves: an image deleted while its scan ran gets no row back.
    """
    s = t.image_scans
    conn.execute(
        sa.update(s)
        .where(s.c.repository_id == repo_id, s.c.digest == digest)
        .values(status=status, description=(description or DESCRIPTIONS.get(status, status))[:512],
                **values)
    )  # fmt: skip


def mark_complete(
    conn: Connection,
    repo_id: int,
    digest: str,
    *,
    status: str,
    counts: dict[str, int],
    vulndb_version: int | None,
    vulndb_updated_at: float | None,
    now: float,
    description: str = "",
) -> None:
    """The scan ended with findings stored; `description` replaces ECR's wording if given."""
    mark(
        conn, repo_id, digest, status, description, completed_at=now,
        severity_counts=json.dumps(counts),
        vulndb_version=vulndb_version, vulndb_updated_at=vulndb_updated_at,
    )  # fmt: skip


def frequency_of(conn: Connection, repo_id: int, digest: str) -> str:
    value = conn.execute(
        sa.select(t.image_scans.c.frequency).where(
            t.image_scans.c.repository_id == repo_id, t.image_scans.c.digest == digest
        )
    ).scalar()
    return str(value or "MANUAL")
