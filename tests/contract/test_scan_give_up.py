"""A scan whose job runs out of retries ends FAILED in the transaction that ends the job."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tidegate import schema as t
from tidegate.engine import jobs, scans
from tidegate.engine.jobs import JobQueue
from tidegate.states import JobKind, ScanType


def scan_row(engine: Engine, status: str) -> tuple[int, str]:
    with engine.begin() as conn:
        key = conn.execute(
            sa.insert(t.repositories).values(name=f"give-up/{status.lower()}", created_at=1.0)
        ).inserted_primary_key
        assert key is not None
        repo_id = int(key[0])
        digest = "sha256:" + status.lower().ljust(64, "0")[:64]
        conn.execute(
            sa.insert(t.image_scans).values(
                repository_id=repo_id, digest=digest, scan_type="BASIC", status=status,
                description="", requested_at=1.0,
            )
        )  # fmt: skip
        jobs.enqueue(
            conn, kind=JobKind.SCAN, repository_id=repo_id, digest=digest, scan_type=ScanType.BASIC,
            reason="push", now=1.0, max_attempts=2,
        )  # fmt: skip
    return repo_id, digest


def status_of(engine: Engine, repo_id: int, digest: str) -> tuple[str, str]:
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(t.image_scans.c.status, t.image_scans.c.description).where(
                t.image_scans.c.repository_id == repo_id, t.image_scans.c.digest == digest
            )
        ).one()
    return str(row.status), str(row.description)


def test_last_failure_ends_the_scan(engine: Engine) -> None:
    now = [1000.0]
    queue = JobQueue(engine, lambda: now[0])
    repo_id, digest = scan_row(engine, "IN_PROGRESS")

    def give_up(conn: sa.Connection) -> None:
        scans.give_up(conn, repo_id, digest, "The scan failed after 2 attempts: boom", now[0])

    job = queue.claim("w", 60)
    assert job is not None
    assert queue.fail(job, "boom", on_give_up=give_up)  # retried: still under way
    assert status_of(engine, repo_id, digest)[0] == "IN_PROGRESS"
    now[0] += 3600
    job = queue.claim("w", 60)
    assert job is not None
    assert not queue.fail(job, "boom", on_give_up=give_up)
    assert status_of(engine, repo_id, digest) == (
        "FAILED",
        "The scan failed after 2 attempts: boom",
    )
    assert queue.counts() == {"failed": 1}


def test_an_ended_scan_keeps_its_outcome(engine: Engine) -> None:
    repo_id, digest = scan_row(engine, "COMPLETE")
    with engine.begin() as conn:
        scans.give_up(conn, repo_id, digest, "late failure", 5.0)
    assert status_of(engine, repo_id, digest)[0] == "COMPLETE"
