"""Crash safety and bounded memory of the registry, against a real server process."""

from __future__ import annotations

import hashlib
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import sha256
from tests.support.server import TidegateServer

pytestmark = pytest.mark.integration

MiB = 1 << 20


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_kill9_mid_chunk_resumes_from_acknowledged_offset(tmp_path: Path) -> None:
    data = os.urandom(6 * MiB)
    first, second = data[: 2 * MiB], data[2 * MiB :]
    srv = TidegateServer(tmp_path / "data", env={"TIDEGATE_ANONYMOUS_ACCESS": "push"})
    srv.start()
    try:
        c = httpx.Client(base_url=srv.url, timeout=30)
        location = c.post("/v2/crash/app/blobs/uploads/").headers["Location"]
        r = c.patch(location, content=first, headers={"Content-Range": f"0-{len(first) - 1}"})
        assert r.status_code == 202
        location = r.headers["Location"]
        # Send half of the next chunk on a raw socket, then kill the server mid-request.
        sock = socket.create_connection(("127.0.0.1", srv.port))
        head = (
            f"PATCH {location} HTTP/1.1\r\nHost: {srv.host}\r\n"
            f"Content-Range: {len(first)}-{len(data) - 1}\r\nContent-Length: {len(second)}\r\n"
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        sock.sendall(head.encode() + second[: len(second) // 2])
        time.sleep(0.5)
        srv.kill9()
        sock.close()
        srv.start()
        c = httpx.Client(base_url=srv.url, timeout=30)
        status = c.get(location)
        assert status.status_code == 204
        assert status.headers["Range"] == f"0-{len(first) - 1}"
        # The half-written blob is not visible under any digest.
        assert c.head(f"/v2/crash/app/blobs/{sha256(data)}").status_code == 404
        r = c.put(
            location,
            params={"digest": sha256(data)},
            content=second,
            headers={"Content-Range": f"{len(first)}-{len(data) - 1}"},
        )
        assert r.status_code == 201, r.text
        got = c.get(f"/v2/crash/app/blobs/{sha256(data)}")
        assert hashlib.sha256(got.content).hexdigest() == sha256(data).split(":")[1]
    finally:
        srv.stop()


def test_kill9_before_any_ack_reports_unknown_or_empty(tmp_path: Path) -> None:
    srv = TidegateServer(tmp_path / "data", env={"TIDEGATE_ANONYMOUS_ACCESS": "push"})
    srv.start()
    try:
        c = httpx.Client(base_url=srv.url, timeout=30)
        location = c.post("/v2/crash/two/blobs/uploads/").headers["Location"]
        srv.kill9()
        srv.start()
        c = httpx.Client(base_url=srv.url, timeout=30)
        status = c.get(location)
        assert status.status_code == 204
        assert status.headers["Range"] == "0-0"
        payload = b"after restart"
        r = c.put(location, params={"digest": sha256(payload)}, content=payload)
        assert r.status_code == 201
    finally:
        srv.stop()


def _chunks(total: int, seed: bytes) -> Iterator[bytes]:
    block = hashlib.sha512(seed).digest() * (MiB // 64)
    for _ in range(total // MiB):
        yield block


def test_large_blob_streams_in_constant_memory(tmp_path: Path) -> None:
    total = 256 * MiB
    hasher = hashlib.sha256()
    for chunk in _chunks(total, b"x"):
        hasher.update(chunk)
    digest = "sha256:" + hasher.hexdigest()
    with TidegateServer(tmp_path / "data", env={"TIDEGATE_ANONYMOUS_ACCESS": "push"}) as srv:
        assert srv.proc is not None
        c = httpx.Client(base_url=srv.url, timeout=120)
        baseline = peak_rss_mib(srv.proc.pid)
        location = c.post("/v2/big/blob/blobs/uploads/").headers["Location"]
        r = c.patch(location, content=_chunks(total, b"x"))
        assert r.status_code == 202
        r = c.put(r.headers["Location"], params={"digest": digest})
        assert r.status_code == 201
        got = hashlib.sha256()
        with c.stream("GET", f"/v2/big/blob/blobs/{digest}") as resp:
            for chunk in resp.iter_bytes():
                got.update(chunk)
        assert "sha256:" + got.hexdigest() == digest
        growth = peak_rss_mib(srv.proc.pid) - baseline
        # 256 MiB moved each way; the server's peak grows by a small constant, not the size.
        assert growth < 64, f"peak RSS grew by {growth:.0f} MiB"
