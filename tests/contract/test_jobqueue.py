"""The durable job queue on SQLite and PostgreSQL: leases, retries, recovery, no double claims."""

from __future__ import annotations

import threading

from sqlalchemy.engine import Engine

from tidegate.engine import jobs
from tidegate.engine.jobs import JobQueue
from tidegate.states import JobKind, ScanType


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def add(engine: Engine, digest: str, now: float) -> int | None:
    with engine.begin() as conn:
        return jobs.enqueue(
            conn, kind=JobKind.SCAN, repository_id=None, digest=digest, scan_type=ScanType.BASIC,
            reason="push", now=now,
        )  # fmt: skip


def test_claim_complete_and_dedupe(engine: Engine) -> None:
    clock = Clock()
    queue = JobQueue(engine, clock)
    first = add(engine, "sha256:a", clock.now)
    assert first is not None
    assert add(engine, "sha256:a", clock.now) is None  # same job still queued
    job = queue.claim("w1", 60)
    assert job is not None
    assert job.id == first
    assert job.attempts == 1
    assert queue.claim("w2", 60) is None
    queue.complete(job)
    assert queue.counts() == {"done": 1}
    assert add(engine, "sha256:a", clock.now) is not None  # a new scan may be queued again


def test_expired_lease_is_recovered_by_another_worker(engine: Engine) -> None:
    clock = Clock()
    queue = JobQueue(engine, clock)
    add(engine, "sha256:b", clock.now)
    dead = queue.claim("dies-mid-scan", 30)
    assert dead is not None
    clock.now += 31
    taken = queue.claim("w2", 30)
    assert taken is not None
    assert taken.id == dead.id
    assert taken.attempts == 2
    # The dead worker's late completion or renewal no longer counts.
    assert not queue.renew(dead, 30)
    queue.complete(dead)
    assert queue.counts() == {"running": 1}
    queue.complete(taken)
    assert queue.counts() == {"done": 1}


def test_failures_back_off_then_give_up(engine: Engine) -> None:
    clock = Clock()
    queue = JobQueue(engine, clock)
    with engine.begin() as conn:
        jobs.enqueue(
            conn, kind=JobKind.SCAN, repository_id=None, digest="sha256:c",
            scan_type=ScanType.BASIC, reason="push", now=clock.now, max_attempts=2,
        )  # fmt: skip
    job = queue.claim("w", 60)
    assert job is not None
    assert queue.fail(job, "boom")
    assert queue.claim("w", 60) is None  # backing off
    clock.now += 10
    again = queue.claim("w", 60)
    assert again is not None
    assert not queue.fail(again, "boom again")
    clock.now += 1000
    assert queue.claim("w", 60) is None
    assert queue.counts() == {"failed": 1}


def test_concurrent_workers_never_share_a_job(engine: Engine) -> None:
    clock = Clock()
    queue = JobQueue(engine, clock)
    for i in range(40):
        add(engine, f"sha256:{i}", clock.now)
    claimed: list[int] = []
    lock = threading.Lock()

    def work(name: str) -> None:
        while (job := queue.claim(name, 60)) is not None:
            with lock:
                claimed.append(job.id)
            queue.complete(job)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(claimed) == sorted(set(claimed))
    assert len(claimed) == 40
