"""Process identities tell a dead predecessor from a live process, and scratch sweeps use
them: a dead process's directory goes, a live one's and another host's stay."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tidegate.engine import owner, scratch


def dead_identity() -> owner.ProcessId:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.2)"])
    start = owner.start_time(proc.pid)
    proc.wait()
    assert start
    return owner.ProcessId(socket.gethostname(), proc.pid, start)


def test_identities() -> None:
    me = owner.current()
    assert me.pid == os.getpid()
    assert owner.parse(f"{me}:scan-worker-0") == me
    assert not me.is_dead_here()
    assert dead_identity().is_dead_here()
    # The same pid with another start time is a different (dead) process: pid reuse.
    assert owner.ProcessId(me.host, me.pid, me.start + "1").is_dead_here()
    # Another host's processes are judged by their lease, never from here.
    assert not owner.ProcessId("elsewhere.example", 999_999, "1").is_dead_here()
    assert owner.parse("no-pid") is None
    assert owner.parse("host:²:1") is None


def test_sweep_removes_only_the_dead(tmp_path: Path) -> None:
    live = scratch.own_dir(tmp_path)
    dead = tmp_path / str(dead_identity())
    foreign = tmp_path / "elsewhere.example:12:34"
    junk = tmp_path / "tmpabc"
    for d in (dead, foreign, junk):
        (d / "scan-x").mkdir(parents=True)
        (d / "scan-x" / "spooled").write_bytes(b"x" * 1000)
    assert sorted(scratch.sweep(tmp_path, dry_run=True)) == sorted([dead, junk])
    assert dead.exists()
    assert sorted(scratch.sweep(tmp_path)) == sorted([dead, junk])
    assert live.exists()
    assert foreign.exists()
    assert not dead.exists()
    assert not junk.exists()


def test_gc_sweeps_dead_scratch(tmp_path: Path) -> None:
    data = tmp_path / "data"
    dead = data / "scratch" / str(dead_identity())
    dead.mkdir(parents=True)
    (dead / "layer").write_bytes(b"x" * 4096)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run(
        [sys.executable, "-m", "tidegate", "gc", "--data-dir", str(data), "--json"],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    assert '"scratch_dirs_removed": 1' in out.stdout
    assert not dead.exists()
