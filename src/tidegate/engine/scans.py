"""When images get scanned, and the scan status ECR reports (imageScanStatus).

Statuses follow ECR: BASIC goes PENDING -> IN_PROGRESS -> COMPLETE | FAILED |
UNSUPPORTED_IMAGE; ENHANCED goes PENDING -> IN_PROGRESS -> COMPLETE (scan on push or a
one-off manual scan) or ACTIVE (continuous: scanned and monitored).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Mapping

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tidegate import schema as t
from tidegate.db import bulk_update, update_or_insert
from tidegate.engine import jobs
from tidegate.engine.findings import FindingChanges, ImageKey
from tidegate.engine.policy import check_basic_scan_quota, effective_scanning, load_configuration
from tidegate.errors import Unsupported
from tidegate.registry.image_scans import PENDING_DESCRIPTION, ScanState
from tidegate.registry.metadata import ManifestRow, RepoRow
from tidegate.registry.service import PushedImage
from tidegate.states import UNFINISHED, JobKind, ScanFrequency, ScanStatus, ScanType

DESCRIPTIONS = {
    ScanStatus.IN_PROGRESS: "The scan is in progress.",
    ScanStatus.COMPLETE: "The scan was completed successfully.",
    ScanStatus.ACTIVE: "Continuous scan is selected for image.",
}


def _upsert(conn: Connection, repo_id: int, digest: str, **values: object) -> None:
    update_or_insert(conn, t.image_scans, {"repository_id": repo_id, "digest": digest}, values)


def request_scan(
    conn: Connection,
    repo: RepoRow,
    digest: str,
    *,
    scan_type: ScanType,
    frequency: ScanFrequency,
    reason: str,
    now: float,
) -> ScanState:
    """Record a PENDING scan and enqueue its job in the caller's transaction."""
    values: dict[str, object] = {
        "scan_type": scan_type,
        "status": ScanStatus.PENDING,
        "description": PENDING_DESCRIPTION,
        "requested_at": now,
        "frequency": frequency,
    }
    if scan_type == ScanType.BASIC or reason == "manual":
        values["last_basic_scan_at"] = now  # counts toward the one-per-24-h quota
    _upsert(conn, repo.id, digest, **values)
    jobs.enqueue(
        conn, kind=JobKind.SCAN, repository_id=repo.id, digest=digest, scan_type=scan_type,
        reason=reason, now=now,
    )  # fmt: skip
    return ScanState(scan_type, ScanStatus.PENDING, PENDING_DESCRIPTION, now, None)


def on_push(conn: Connection, image: PushedImage) -> None:
    """Push hook: scan on push / continuous repositories get a scan job with the push."""
    if not image.created or image.parsed.is_index:
        return
    config = load_configuration(conn)
    eff = effective_scanning(config, image.repo.name, image.repo.scan_on_push)
    if eff.frequency == ScanFrequency.MANUAL:
        return
    request_scan(
        conn, image.repo, image.manifest.digest, scan_type=config.scan_type,
        frequency=eff.frequency, reason="push", now=image.manifest.pushed_at,
    )  # fmt: skip


def start_manual_scan(conn: Connection, repo: RepoRow, row: ManifestRow) -> ScanState:
    """StartImageScan: one scan per image per 24 h; continuous/on-push ENHANCED refuse it."""
    now = time.time()
    config = load_configuration(conn)
    eff = effective_scanning(config, repo.name, repo.scan_on_push)
    if config.scan_type is ScanType.ENHANCED and eff.frequency != ScanFrequency.MANUAL:
        msg = (
            f"The repository '{repo.name}' is scanned by {eff.frequency} enhanced "
            "scanning; manual scans apply only to repositories with MANUAL frequency."
        )
        raise Unsupported(msg)
    last = conn.execute(
        sa.select(t.image_scans.c.last_basic_scan_at, t.image_scans.c.status).where(
            t.image_scans.c.repository_id == repo.id, t.image_scans.c.digest == row.digest
        )
    ).first()
    if (
        last is not None and last.status != ScanStatus.FAILED
    ):  # a failed scan does not use the quota
        check_basic_scan_quota(last.last_basic_scan_at, now)
    return request_scan(
        conn, repo, row.digest, scan_type=config.scan_type, frequency=eff.frequency,
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
            s.c.status.in_(UNFINISHED),
        )
        .values(status=ScanStatus.FAILED, description=reason[:512], completed_at=now)
    )


def mark(conn: Connection, repo_id: int, digest: str, status: ScanStatus, description: str = "",
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
    status: ScanStatus,
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


def frequency_of(conn: Connection, repo_id: int, digest: str) -> ScanFrequency:
    value = conn.execute(
        sa.select(t.image_scans.c.frequency).where(
            t.image_scans.c.repository_id == repo_id, t.image_scans.c.digest == digest
        )
    ).scalar()
    return ScanFrequency(value or ScanFrequency.MANUAL)


# -- every other write to image_scans: this module owns the table ----------------------

EXPIRED_DESCRIPTION = (
    "Continuous scanning ended: the image was pushed longer ago than the configured "
    "re-scan duration."
)


def expire_images(conn: sa.Connection, pushed_before: float) -> int:
    """Stop monitoring continuous images pushed before the cutoff; returns how many."""
    s, m = t.image_scans, t.manifests
    old = (
        sa.select(m.c.id)
        .where(
            m.c.repository_id == s.c.repository_id,
            m.c.digest == s.c.digest,
            m.c.pushed_at < pushed_before,
        )
        .exists()
    )
    result = conn.execute(
        sa.update(s)
        .where(s.c.frequency == ScanFrequency.CONTINUOUS_SCAN, s.c.status == ScanStatus.ACTIVE, old)
        .values(status=ScanStatus.SCAN_ELIGIBILITY_EXPIRED, description=EXPIRED_DESCRIPTION)
    )
    return int(result.rowcount)


def mark_rescanned(conn: Connection, digests: Iterable[str], now: float) -> None:
    """A re-scan evaluated these digests' ACTIVE continuous enhanced scans at `now`."""
    s = t.image_scans
    conn.execute(
        sa.update(s)
        .where(
            s.c.digest.in_(sorted(digests)),
            s.c.scan_type == ScanType.ENHANCED,
            s.c.frequency == ScanFrequency.CONTINUOUS_SCAN,
            s.c.status == ScanStatus.ACTIVE,
        )
        .values(completed_at=now)
    )


def stamp_vulndb(conn: Connection, version: int, updated_at: float | None) -> None:
    """Every monitored image is now evaluated against DB `version`."""
    s = t.image_scans
    conn.execute(
        sa.update(s)
        .where(s.c.frequency == ScanFrequency.CONTINUOUS_SCAN, s.c.status == ScanStatus.ACTIVE)
        .values(vulndb_version=version, vulndb_updated_at=updated_at)
    )


def apply_severity_deltas(
    conn: Connection,
    changes: Mapping[ImageKey, FindingChanges],
    stored: Mapping[ImageKey, str],
) -> None:
    """Add each image's severity delta to its stored counts (images whose findings changed).

    `stored` holds the images' current `severity_counts` JSON, read under the same write
    transaction.
    """
    moved = {key: c.severity_delta for key, c in changes.items() if any(c.severity_delta.values())}
    if not moved:
        return
    s = t.image_scans
    params = []
    for key, delta in moved.items():
        if key not in stored:
            continue
        counts = Counter(orjson.loads(stored[key]))
        counts.update(delta)
        params.append(
            {"repository_id": key[0], "digest": key[1],
             "severity_counts": orjson.dumps({k: n for k, n in sorted(counts.items()) if n > 0})
             .decode()}
        )  # fmt: skip
    bulk_update(conn, s, ["severity_counts"], ["repository_id", "digest"], params)


def replace_severity_counts(conn: Connection, counts: Mapping[ImageKey, Mapping[str, int]]) -> None:
    """Store these images' severity counts as recounted (after suppression rules moved some
    of their findings)."""
    params = [
        {"repository_id": key[0], "digest": key[1],
         "severity_counts": orjson.dumps({k: n for k, n in sorted(c.items()) if n > 0}).decode()}
        for key, c in counts.items()
    ]  # fmt: skip
    if params:
        bulk_update(conn, t.image_scans, ["severity_counts"], ["repository_id", "digest"], params)


def scan_type_of(conn: Connection, repo_id: int, digest: str) -> ScanType | None:
    """The image's scan type, None when it was never scanned."""
    s = t.image_scans
    where = (s.c.repository_id == repo_id, s.c.digest == digest)
    value = conn.execute(sa.select(s.c.scan_type).where(*where)).scalar()
    return None if value is None else ScanType(value)


def forget(conn: Connection, repo_id: int, digest: str) -> None:
    """Drop a deleted image's scan state: pushed again, the digest is a new image."""
    s = t.image_scans
    conn.execute(sa.delete(s).where(s.c.repository_id == repo_id, s.c.digest == digest))


def removal_of_orphans() -> sa.Delete:
    """The statement removing the scan rows of images that no longer exist (retention)."""
    s, m = t.image_scans, t.manifests
    gone = ~sa.exists().where(m.c.repository_id == s.c.repository_id, m.c.digest == s.c.digest)
    return sa.delete(s).where(gone)
