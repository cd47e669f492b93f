"""A job enqueued in the engine's own process wakes a worker at once instead of at the poll."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy.engine import Engine

from tidegate.app import build_registry
from tidegate.config import load_settings
from tidegate.engine import jobs
from tidegate.engine.runtime import ScanEngine
from tidegate.states import JobKind, ScanType

POLL = 60.0  # far beyond the wait below: only the nudge explains a prompt claim


def test_an_enqueue_commit_wakes_an_idle_worker(engine: Engine, tmp_path: Path) -> None:
    url = engine.url.render_as_string(hide_password=False)
    settings = load_settings(
        overrides={"data_dir": tmp_path / "data", "database_url": url, "workers": 1},
        environ={},
    )
    registry = build_registry(settings)
    rt = ScanEngine(registry, settings, poll_seconds=POLL)
    rt.start(workers=1)
    try:
        time.sleep(0.5)  # the worker found the queue empty and waits for the poll
        with registry.engine.begin() as conn:
            # No repository: the scan finds no image and completes at once.
            jobs.enqueue(
                conn, kind=JobKind.SCAN, repository_id=None, digest="sha256:" + "0" * 64,
                scan_type=ScanType.BASIC, reason="manual", now=time.time(),
            )  # fmt: skip
        deadline = time.monotonic() + 10
        while rt.queue.counts() != {"done": 1} and time.monotonic() < deadline:
            time.sleep(0.05)
        assert rt.queue.counts() == {"done": 1}
    finally:
        rt.stop()


def test_a_rolled_back_enqueue_wakes_nobody(engine: Engine) -> None:
    woken: list[bool] = []
    undo = jobs.notify_on_enqueue(engine, lambda: woken.append(True))
    try:
        with engine.connect() as conn, conn.begin() as tx:
            jobs.enqueue(
                conn, kind=JobKind.SCAN, repository_id=None, digest="sha256:" + "1" * 64,
                scan_type=ScanType.BASIC, reason="manual", now=time.time(),
            )  # fmt: skip
            tx.rollback()
        with engine.begin() as conn:
            conn.exec_driver_sql("SELECT 1")  # a later commit of the same pooled connection
        assert woken == []
    finally:
        undo()
