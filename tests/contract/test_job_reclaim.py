"""At start a process requeues the running jobs its dead predecessor on this host held."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.contract.test_scan_give_up import scan_row, status_of
from tidegate import schema as t
from tidegate.engine import jobs, scans
from tidegate.engine.jobs import Job, JobQueue
from tidegate.states import JobKind, ScanType


def test_reclaim_requeues_only_the_dead_owners_jobs(engine: Engine) -> None:
    now = [100.0]
    queue = JobQueue(engine, lambda: now[0])
    with engine.begin() as conn:
        for i in range(3):
            jobs.enqueue(
                conn, kind=JobKind.SCAN, repository_id=None, digest=f"sha256:{i}",
                scan_type=ScanType.BASIC,
                reason="push", now=1.0,
            )  # fmt: skip
    owners = ["h:1:10:scan-worker-0", "h:2:20:scan-worker-0", "h:1:10:scan-worker-1"]
    claimed = [queue.claim(who, 300) for who in owners]
    assert all(claimed)
    assert queue.claim("h:3:30:w", 300) is None
    # Process 1 (start 10) died; process 2 lives. Nothing is claimable until we reclaim.
    assert queue.reclaim(lambda who: who.startswith("h:1:10:")) == 2
    assert queue.counts() == {"queued": 2, "running": 1}
    again = queue.claim("h:4:40:w", 300)
    assert again is not None
    assert again.attempts == 2  # the interrupted run counted
    # The live owner keeps its job and can still renew and complete it.
    live = claimed[1]
    assert live is not None
    assert queue.renew(live, 300)
    with engine.connect() as conn:
        errors = (
            conn.execute(sa.select(t.scan_jobs.c.last_error).where(t.scan_jobs.c.state == "queued"))
            .scalars()
            .all()
        )
    assert errors == ["its worker process died"]


def test_a_job_whose_worker_dies_every_time_ends_its_scan(engine: Engine) -> None:
    """A poison job that kills its worker each attempt is ended, not run forever."""
    repo_id, digest = scan_row(engine, "IN_PROGRESS")  # its job allows 2 attempts

    def exhausted(conn: sa.Connection, job: Job) -> None:
        reason = f"died during each of {job.attempts} attempts"
        scans.give_up(conn, repo_id, digest, reason, 5.0)

    queue = JobQueue(engine, lambda: 100.0, on_exhausted=exhausted)
    for attempt in (1, 2):
        job = queue.claim(f"h:{attempt}:1:w", 300)
        assert job is not None
        assert job.attempts == attempt
        assert queue.reclaim(lambda _who: True) == 1  # its worker died
    assert queue.claim("h:9:1:w", 300) is None
    assert queue.counts() == {"failed": 1}
    assert status_of(engine, repo_id, digest) == ("FAILED", "died during each of 2 attempts")
