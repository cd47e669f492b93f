"""The durable scan-job queue in the metadata DB: leases, retries, at-least-once.

A job's life:

    queued ──claim──> running ──complete──> done
      ▲                 │  │
      │   fail(retry)   │  └──fail(no retries left)──> failed
      └─────────────────┘
      ▲                 │
      └──lease expired──┘   (a worker died: another worker claims it again)

Jobs are enqueued inside the caller's transaction (a push and its scan job commit together).
Claims use `FOR UPDATE SKIP LOCKED` on PostgreSQL so workers on many hosts never take the
same job; SQLite serialises writers anyway. Scans are idempotent, so running a job twice
after a lost lease is harmless.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypedDict, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from tidegate import db
from tidegate import schema as t
from tidegate.db import reading
from tidegate.states import JobKind, ScanType


class Payload(TypedDict, total=False):
    """What a job carries beyond its image: a re-scan's vulnerability-DB versions."""

    since: int  # the version the images were last evaluated against
    version: int  # the version to evaluate them against now
    report_id: str  # a report job's request (`inspector_reports`)
    report_kind: str  # findings | sbom


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    kind: JobKind
    repository_id: int | None
    digest: str | None
    scan_type: ScanType
    reason: str  # push | manual | rescan
    attempts: int
    max_attempts: int
    payload: Payload
    lease_owner: str


def enqueue(
    conn: Connection,
    *,
    kind: JobKind,
    repository_id: int | None,
    digest: str | None,
    scan_type: ScanType,
    reason: str,
    now: float,
    payload: Payload | None = None,
    max_attempts: int = 5,
    dedupe_key: str | None = None,
) -> int | None:
    """Add a job unless an identical one is still queued (not yet claimed); returns its id.

    Jobs about no image (reports) pass their own `dedupe_key`.
    """
    dedupe_key = dedupe_key or f"{kind}:{repository_id}:{digest}:{scan_type}"
    existing = conn.execute(
        sa.select(t.scan_jobs.c.id).where(
            t.scan_jobs.c.dedupe_key == dedupe_key,
            t.scan_jobs.c.state == "queued",
        )
    ).first()
    if existing is not None:
        return None
    result = conn.execute(
        sa.insert(t.scan_jobs).values(
            kind=kind,
            repository_id=repository_id,
            digest=digest,
            scan_type=scan_type,
            reason=reason,
            state="queued",
            dedupe_key=dedupe_key,
            attempts=0,
            max_attempts=max_attempts,
            run_after=now,
            payload=json.dumps(payload or {}),
            created_at=now,
            updated_at=now,
        )
    )
    db.flag_for_commit(conn, _ENQUEUED)
    key = result.inserted_primary_key
    return int(key[0]) if key else None


_ENQUEUED = "tidegate_job_enqueued"


def notify_on_enqueue(engine: Engine, callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback` when a transaction that enqueued a job commits; returns an undo."""
    return db.notify_on_commit(engine, _ENQUEUED, callback)


def _claimable(now: float) -> sa.ColumnElement[bool]:
    return sa.or_(
        sa.and_(t.scan_jobs.c.state == "queued", t.scan_jobs.c.run_after <= now),
        sa.and_(t.scan_jobs.c.state == "running", t.scan_jobs.c.lease_expires < now),
    )


def _job(row: sa.Row[Any], worker_id: str) -> Job:
    m = row._mapping
    return Job(
        id=m["id"],
        kind=JobKind(m["kind"]),
        repository_id=m["repository_id"],
        digest=m["digest"],
        scan_type=ScanType(m["scan_type"]),
        reason=m["reason"],
        attempts=m["attempts"],
        max_attempts=m["max_attempts"],
        payload=cast("Payload", json.loads(m["payload"])),
        lease_owner=worker_id,
    )


class JobQueue:
    """Claim, renew, complete and fail jobs; safe across threads and processes."""

    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], float] = time.time,
        on_exhausted: Callable[[Connection, Job], None] | None = None,
    ) -> None:
        """`on_exhausted` ends what a job was for when it ran out of attempts without a
        `fail` (its worker died each time), in the transaction that marks the job failed."""
        self.engine = engine
        self.clock = clock
        self.on_exhausted = on_exhausted
        self._postgres = engine.dialect.name == "postgresql"

    def _any_claimable(self, now: float) -> bool:
        with reading(self.engine) as conn:
            found = conn.execute(sa.select(t.scan_jobs.c.id).where(_claimable(now)).limit(1))
            return found.first() is not None

    def claim(self, worker_id: str, lease_seconds: float) -> Job | None:
        for _ in range(16):  # skip (and end) jobs that used every attempt
            picked = self._claim_one(worker_id, lease_seconds)
            if picked is None or isinstance(picked, Job):
                return picked
        return None

    def _claim_one(self, worker_id: str, lease_seconds: float) -> Job | bool | None:
        now = self.clock()
        if not self._postgres and not self._any_claimable(now):
            return None  # an idle poll takes no SQLite write lock from the API's writers
        with self.engine.begin() as conn:
            pick = (
                sa.select(t.scan_jobs.c.id, t.scan_jobs.c.attempts, t.scan_jobs.c.max_attempts)
                .where(_claimable(now))
                .order_by(t.scan_jobs.c.run_after, t.scan_jobs.c.id)
                .limit(1)
            )
            if self._postgres:
                pick = pick.with_for_update(skip_locked=True)
            row = conn.execute(pick).first()
            if row is None:
                return None
            if row.attempts >= row.max_attempts:
                # Every attempt started and none ended: a job that kills its worker (or a
                # host that keeps dying) must not run forever, and its scan must end.
                job = _job(
                    conn.execute(sa.select(t.scan_jobs).where(t.scan_jobs.c.id == row.id)).one(), ""
                )
                if self.on_exhausted is not None:
                    self.on_exhausted(conn, job)
                conn.execute(
                    sa.update(t.scan_jobs)
                    .where(t.scan_jobs.c.id == row.id)
                    .values(
                        state="failed", lease_owner=None, lease_expires=None, updated_at=now,
                        last_error=f"its worker died during each of {row.attempts} attempts",
                    )
                )  # fmt: skip
                return False
            conn.execute(
                sa.update(t.scan_jobs)
                .where(t.scan_jobs.c.id == row[0])
                .values(
                    state="running",
                    lease_owner=worker_id,
                    lease_expires=now + lease_seconds,
                    attempts=t.scan_jobs.c.attempts + 1,
                    updated_at=now,
                )
            )
            claimed = conn.execute(sa.select(t.scan_jobs).where(t.scan_jobs.c.id == row[0])).one()
        return _job(claimed, worker_id)

    def _owned(self, job: Job) -> sa.ColumnElement[bool]:
        return sa.and_(
            t.scan_jobs.c.id == job.id,
            t.scan_jobs.c.state == "running",
            t.scan_jobs.c.lease_owner == job.lease_owner,
        )

    def renew(self, job: Job, lease_seconds: float) -> bool:
        """Extend the lease; False when the job was taken over (our lease had expired)."""
        now = self.clock()
        with self.engine.begin() as conn:
            updated = conn.execute(
                sa.update(t.scan_jobs)
                .where(self._owned(job))
                .values(lease_expires=now + lease_seconds, updated_at=now)
            )
        return updated.rowcount == 1

    def complete(self, job: Job, conn: Connection | None = None) -> None:
        """Mark done; pass `conn` to commit it with the job's results."""
        stmt = (
            sa.update(t.scan_jobs)
            .where(self._owned(job))
            .values(state="done", lease_owner=None, lease_expires=None, updated_at=self.clock())
        )
        if conn is not None:
            conn.execute(stmt)
            return
        with self.engine.begin() as own:
            own.execute(stmt)

    def fail(
        self, job: Job, error: str, *, on_give_up: Callable[[Connection], None] | None = None
    ) -> bool:
        """Retry with exponential backoff, or give up; True when the job will run again.

        `on_give_up` runs in the transaction that ends the job for good, so whatever the job
        was for (an image's scan) reaches its final state with it or not at all.
        """
        now = self.clock()
        retry = job.attempts < job.max_attempts
        delay = min(2.0**job.attempts, 300.0) * (0.5 + random.random())  # jitter
        with self.engine.begin() as conn:
            if not retry and on_give_up is not None:
                on_give_up(conn)
            conn.execute(
                sa.update(t.scan_jobs)
                .where(self._owned(job))
                .values(
                    state="queued" if retry else "failed",
                    run_after=now + delay if retry else now,
                    lease_owner=None,
                    lease_expires=None,
                    last_error=error[:4000],
                    updated_at=now,
                )
            )
        return retry

    def reclaim(self, is_dead: Callable[[str], bool]) -> int:
        """Requeue, now, the running jobs whose lease owner `is_dead` says is gone.

        The lease would hand them over anyway, minutes later; this is for a restarted
        process that can tell its dead predecessor (same host, pid gone or reused) at once.
        Each update is conditional on the owner so a job meanwhile taken over stays put.
        """
        now = self.clock()
        with reading(self.engine) as conn:
            rows = conn.execute(
                sa.select(t.scan_jobs.c.id, t.scan_jobs.c.lease_owner).where(
                    t.scan_jobs.c.state == "running"
                )
            ).all()
        dead = [(job_id, who) for job_id, who in rows if who and is_dead(who)]
        count = 0
        with self.engine.begin() as conn:
            for job_id, who in dead:
                result = conn.execute(
                    sa.update(t.scan_jobs)
                    .where(
                        t.scan_jobs.c.id == job_id,
                        t.scan_jobs.c.state == "running",
                        t.scan_jobs.c.lease_owner == who,
                    )
                    .values(
                        state="queued", run_after=now, lease_owner=None, lease_expires=None,
                        last_error="its worker process died", updated_at=now,
                    )
                )  # fmt: skip
                count += result.rowcount
        return count

    def counts(self) -> dict[str, int]:
        with reading(self.engine) as conn:
            rows = conn.execute(
                sa.select(t.scan_jobs.c.state, sa.func.count()).group_by(t.scan_jobs.c.state)
            ).all()
        return {state: int(n) for state, n in rows}
