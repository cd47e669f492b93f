"""Inspector findings reports and SBOM exports as stored requests, run as queued jobs.

A request's life (the status Inspector reports):

    IN_PROGRESS ──job writes the files──> SUCCEEDED
         │    └──nothing to write / destination refused──> FAILED (errorCode, errorMessage)
         └──CancelFindingsReport──> CANCELLED   (the job sees it and stops writing)

The request row and its `report` job commit together, so an accepted request always runs,
on whichever process claims the job (an API replica without workers only enqueues).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from tidegate import schema as t
from tidegate.db import reading
from tidegate.engine import jobs
from tidegate.engine.inventories import decode_inventory
from tidegate.scanner.model import Inventory
from tidegate.states import JobKind, ReportStatus, ScanType

JOB_KIND = JobKind.REPORT
T = TypeVar("T")

rep = t.inspector_reports


@dataclass(frozen=True, slots=True)
class Report:
    id: str
    kind: str  # findings | sbom
    format: str
    status: ReportStatus
    error_code: str | None
    error_message: str | None
    destination: dict[str, Any]
    criteria: dict[str, Any]
    written: list[str]
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class StoredImage:
    """An image with a stored inventory: what an SBOM export can describe."""

    repository: str
    digest: str
    tags: tuple[str, ...]
    pushed_at: float


def _report(row: sa.RowMapping) -> Report:
    return Report(
        id=row["id"], kind=row["kind"], format=row["format"],
        status=ReportStatus(row["status"]), error_code=row["error_code"],
        error_message=row["error_message"],
        destination=orjson.loads(row["destination"]), criteria=orjson.loads(row["criteria"]),
        written=orjson.loads(row["written"]), created_at=row["created_at"],
        updated_at=row["updated_at"],
    )  # fmt: skip


def create(
    db: Engine,
    *,
    kind: str,
    report_format: str,
    destination: dict[str, Any],
    criteria: dict[str, Any],
    now: float,
) -> str:
    """Store the request IN_PROGRESS and enqueue its job, in one transaction; the reportId."""
    report_id = str(uuid.uuid4())
    with db.begin() as conn:
        conn.execute(
            sa.insert(rep).values(
                id=report_id, kind=kind, format=report_format, status=ReportStatus.IN_PROGRESS,
                destination=orjson.dumps(destination).decode(),
                criteria=orjson.dumps(criteria).decode(), written="[]",
                created_at=now, updated_at=now,
            )
        )  # fmt: skip
        jobs.enqueue(
            conn, kind=JOB_KIND, repository_id=None, digest=None, scan_type=ScanType.ENHANCED,
            reason="manual", now=now, payload={"report_id": report_id, "report_kind": kind},
            dedupe_key=f"{JOB_KIND}:{report_id}",
        )  # fmt: skip
    return report_id


def get(db: Engine, report_id: str, kind: str) -> Report | None:
    with reading(db) as conn:
        row = (
            conn.execute(sa.select(rep).where(rep.c.id == report_id, rep.c.kind == kind))
            .mappings()
            .first()
        )
    return _report(row) if row is not None else None


def latest(db: Engine, kind: str) -> Report | None:
    """The newest request of `kind` (GetFindingsReportStatus without a reportId)."""
    with reading(db) as conn:
        row = (
            conn.execute(
                sa.select(rep)
                .where(rep.c.kind == kind)
                .order_by(rep.c.created_at.desc(), rep.c.id)
                .limit(1)
            )
            .mappings()
            .first()
        )
    return _report(row) if row is not None else None


def cancel(db: Engine, report_id: str, now: float) -> bool:
    """IN_PROGRESS -> CANCELLED; False when the request had already ended."""
    with db.begin() as conn:
        done = conn.execute(
            sa.update(rep)
            .where(rep.c.id == report_id, rep.c.status == ReportStatus.IN_PROGRESS)
            .values(
                status=ReportStatus.CANCELLED, error_message="cancelled by request", updated_at=now
            )
        )
    return done.rowcount == 1


def is_open(db: Engine, report_id: str) -> bool:
    """Whether the request is still IN_PROGRESS (the job checks this between files)."""
    with reading(db) as conn:
        status = conn.execute(sa.select(rep.c.status).where(rep.c.id == report_id)).scalar()
    return status == ReportStatus.IN_PROGRESS


def finish(
    conn: Connection,
    report_id: str,
    status: ReportStatus,
    now: float,
    *,
    error_code: str | None = None,
    error_message: str | None = None,
    written: Sequence[str] = (),
) -> bool:
    """End an IN_PROGRESS request (a cancelled one stays CANCELLED); False if it had ended."""
    done = conn.execute(
        sa.update(rep)
        .where(rep.c.id == report_id, rep.c.status == ReportStatus.IN_PROGRESS)
        .values(
            status=status, error_code=error_code, error_message=error_message,
            written=orjson.dumps(list(written)).decode(), updated_at=now,
        )
    )  # fmt: skip
    return done.rowcount == 1


def read(db: Engine, fn: Callable[[Connection], T]) -> T:
    """Run a report's reads on one read-only connection."""
    with reading(db) as conn:
        return fn(conn)


def scanned_images(conn: Connection) -> list[StoredImage]:
    """Every image (repository, digest) that has a stored inventory, by repository and push."""
    m, r, inv = t.manifests, t.repositories, t.image_inventories
    rows = conn.execute(
        sa.select(m.c.id, r.c.name, m.c.digest, m.c.pushed_at)
        .join(r, r.c.id == m.c.repository_id)
        .where(sa.exists().where(inv.c.digest == m.c.digest))
        .order_by(r.c.name, m.c.pushed_at, m.c.digest)
    ).all()
    tags: dict[int, list[str]] = defaultdict(list)
    ids = [int(row[0]) for row in rows]
    for start in range(0, len(ids), 500):
        for manifest_id, name in conn.execute(
            sa.select(t.tags.c.manifest_id, t.tags.c.name)
            .where(t.tags.c.manifest_id.in_(ids[start : start + 500]))
            .order_by(t.tags.c.name)
        ):
            tags[int(manifest_id)].append(str(name))
    return [
        StoredImage(str(name), str(digest), tuple(tags[int(i)]), float(pushed))
        for i, name, digest, pushed in rows
    ]


def stored_inventory(conn: Connection, digest: str) -> Inventory | None:
    """The image's stored inventory, whichever analyzer version made it."""
    inv = t.image_inventories
    blob = conn.execute(sa.select(inv.c.inventory).where(inv.c.digest == digest)).scalar()
    return decode_inventory(blob) if blob is not None else None
