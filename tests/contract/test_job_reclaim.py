"""At start a process requeues the running jobs its dead predecessor on this host held."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tidegate import schema as t
from tidegate.engine import jobs
from tidegate.engine.jobs import JobQueue


def test_reclaim_requeues_only_the_dead_owners_jobs(engine: Engine) -> None:
    now = [100.0]
    queue = JobQueue(engine, lambda: now[0])
    with engine.begin() as conn:
        for i in range(3):
            jobs.enqueue(
                conn, kind="scan", repository_id=None, digest=f"sha256:{i}", scan_type="BASIC",
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
