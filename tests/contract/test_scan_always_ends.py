"""A scan always ends: whatever the analyzer does, the image's scan reaches FAILED with why.

A real scan engine with its real analysis child process runs a plugin analyzer that
raises, recurses without end, blocks, spins on the CPU, or is killed with SIGKILL. Each scan
must end FAILED with a description naming the cause once the job's retries are exhausted
(the job ends in the same transaction), and a new scan of the image can then be started.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import signal
import tarfile
import threading
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tidegate import schema as t
from tidegate.app import build_registry
from tidegate.config import load_settings
from tidegate.engine import scans
from tidegate.engine.runtime import ScanEngine
from tidegate.oci.digest import Digest
from tidegate.registry import metadata
from tidegate.registry.service import RegistryService

OCI = "application/vnd.oci.image.manifest.v1+json"
PLUGIN = "tests.support.faulty_analyzer"

# fault -> (attempts the job makes, what the scan's description must say)
FAULTS = {
    "raise": (5, "RuntimeError: the faulty analyzer broke"),
    "recurse": (5, "RecursionError"),
    "sleep": (1, "ran longer than 2 seconds (budget scan_timeout_seconds)"),
    "spin": (1, "(budget scan_timeout_seconds)"),
    "killed": (1, "died (signal 9"),
}


def _upload(registry: RegistryService, name: str, data: bytes) -> str:
    repo = registry.repository_for_push(name)
    state = registry.uploads.start(repo.id)
    appender = registry.uploads.open(state, None)
    appender.write(data)
    digest = Digest("sha256:" + hashlib.sha256(data).hexdigest())
    return str(registry.uploads.finish(appender, digest, len(data)))


def _layer(order: str) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        info = tarfile.TarInfo("fault")
        info.size = len(order.encode())
        tar.addfile(info, io.BytesIO(order.encode()))
    return out.getvalue()


def _push(registry: RegistryService, name: str, layer: bytes) -> str:
    config = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"}}'
    doc = {
        "schemaVersion": 2, "mediaType": OCI,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": _upload(registry, name, config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": _upload(registry, name, layer), "size": len(layer)}],
    }  # fmt: skip
    digest, _parsed = registry.put_manifest(name, "v1", json.dumps(doc).encode(), OCI)
    return str(digest)


def _start_scan(registry: RegistryService, name: str, digest: str) -> str:
    with registry.engine.begin() as conn:
        repo = metadata.find_repo(conn, name)
        assert repo is not None
        row = metadata.find_manifest(conn, repo.id, digest)
        assert row is not None
        return scans.start_manual_scan(conn, repo, row).status


def _kill_when_analysing(marker: Path, rt: ScanEngine, done: threading.Event) -> None:
    while not done.is_set():
        if marker.exists():
            for pid in rt.analyzer.child_pids():
                os.kill(pid, signal.SIGKILL)
            return
        time.sleep(0.05)


def test_every_analyzer_failure_ends_the_scan(engine: Engine, tmp_path: Path) -> None:
    url = engine.url.render_as_string(hide_password=False)
    settings = load_settings(
        overrides={"data_dir": tmp_path / "data", "database_url": url,
                   "scan_timeout_seconds": 2, "workers": 1},
        environ={},
    )  # fmt: skip
    settings = dataclasses.replace(settings, analyzer_plugins=(PLUGIN,))
    registry = build_registry(settings)
    now = [time.time()]
    rt = ScanEngine(registry, settings, clock=lambda: now[0])
    marker = tmp_path / "analysing"
    orders = {"killed": f"wait:{marker}"}
    images = {}
    for fault in FAULTS:
        name = f"faults/{fault}"
        images[fault] = _push(registry, name, _layer(orders.get(fault, fault)))
        assert _start_scan(registry, name, images[fault]) == "PENDING"
    done = threading.Event()
    killer = threading.Thread(target=_kill_when_analysing, args=(marker, rt, done))
    killer.start()
    try:
        for _round in range(8):  # each round runs what is due, then time passes the backoff
            rt.drain(timeout=120)
            now[0] += 1000.0
            if set(rt.queue.counts()) <= {"done", "failed"}:
                break
    finally:
        done.set()
        killer.join()
        rt.stop()
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                t.repositories.c.name, t.image_scans.c.status, t.image_scans.c.description
            ).join(t.repositories, t.repositories.c.id == t.image_scans.c.repository_id)
        ).all()
        jobs = conn.execute(
            sa.select(t.scan_jobs.c.repository_id, t.scan_jobs.c.state, t.scan_jobs.c.attempts)
        ).all()
    outcome = {name.removeprefix("faults/"): (status, text) for name, status, text in rows}
    for fault, (attempts, why) in FAULTS.items():
        status, text = outcome[fault]
        assert status == "FAILED", (fault, text)
        assert why in text, (fault, text)
        if attempts > 1:
            assert f"after {attempts} attempts" in text, (fault, text)
    assert {state for _repo, state, _n in jobs} <= {"done", "failed"}
    assert max(n for _repo, _state, n in jobs) == 5
    # No analysis process is left behind, and a failed scan does not use the 24 h quota.
    assert rt.analyzer.child_pids() == []
    for fault, digest in images.items():
        assert _start_scan(registry, f"faults/{fault}", digest) == "PENDING"
