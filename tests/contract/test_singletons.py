"""Singleton work on PostgreSQL advisory locks: refused while held, freed when the holder dies.

The holder is a real second process (a fresh interpreter with its own connection), so
"dies" is a SIGKILL and the lock's release is PostgreSQL noticing the dead session.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tidegate.db import create_engine, migrate
from tidegate.singletons import Singleton, hold

pytestmark = pytest.mark.postgres

REPO = Path(__file__).resolve().parents[2]

HOLDER = """
import sys, time
from tidegate.db import create_engine
from tidegate.singletons import Singleton, hold
engine = create_engine(sys.argv[1])
with hold(engine, Singleton[sys.argv[2]]) as held:
    print("held" if held else "refused", flush=True)
    time.sleep(600)
"""


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Engine]:
    engine = create_engine(postgres_url)
    yield engine
    engine.dispose()


def _holder(url: str, work: Singleton) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url, work.name],
        stdout=subprocess.PIPE, text=True, cwd=REPO, env={"PYTHONPATH": str(REPO / "src")},
    )  # fmt: skip
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_second_holder_refused_until_the_first_is_killed(pg: Engine, postgres_url: str) -> None:
    proc = _holder(postgres_url, Singleton.GC)
    try:
        with hold(pg, Singleton.GC) as held:
            assert not held
        # Other work is not blocked by this one.
        with hold(pg, Singleton.OUTBOX) as held:
            assert held
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 10
        while True:
            with hold(pg, Singleton.GC) as held:
                if held:
                    break
            assert time.monotonic() < deadline, "lock still held after its holder died"
            time.sleep(0.1)
    finally:
        proc.kill()
        proc.wait()


def test_released_at_the_end_of_the_block_and_reentrant_across_blocks(
    pg: Engine, postgres_url: str
) -> None:
    with hold(pg, Singleton.RETENTION) as held:
        assert held
        # The same process on another connection is a second holder too.
        with hold(pg, Singleton.RETENTION) as again:
            assert not again
    with hold(pg, Singleton.RETENTION) as held:
        assert held
    # No session keeps it after the block: a separate process gets it at once.
    proc = _holder(postgres_url, Singleton.RETENTION)
    proc.kill()
    proc.wait()


def test_an_error_inside_the_block_releases_the_lock(pg: Engine) -> None:
    def fail_while_holding() -> None:
        with hold(pg, Singleton.LIFECYCLE) as held:
            assert held
            raise RuntimeError("the work failed")

    with pytest.raises(RuntimeError):
        fail_while_holding()
    with hold(pg, Singleton.LIFECYCLE) as held:
        assert held


def test_sqlite_always_grants(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'meta.db'}")
    migrate(engine)
    with hold(engine, Singleton.GC) as first, hold(engine, Singleton.GC) as second:
        assert first
        assert second
    engine.dispose()


def test_the_cli_is_refused_while_another_process_holds_the_work(
    pg: Engine, postgres_url: str, tmp_path: Path
) -> None:
    migrate(pg)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "TIDEGATE_DATABASE_URL": postgres_url}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tidegate", *args, "--data-dir", str(tmp_path / "data")],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    with hold(pg, Singleton.GC) as held:
        assert held
        gc = run("gc")
        assert gc.returncode == 75, gc.stderr
        assert "another process is collecting garbage" in gc.stderr
    with hold(pg, Singleton.VULNDB_UPDATE) as held:
        assert held
        update = run("db", "update", "--only", "ghsa-npm", "--source", str(tmp_path / "none"))
        assert update.returncode == 2, update.stderr
        assert "another process is updating the vulnerability DB" in update.stderr
    assert run("gc").returncode == 0
