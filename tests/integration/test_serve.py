"""`tidegate serve` itself: first-start DB import, request logs, clean SIGTERM shutdown."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import sha256
from tests.support.paths import VULNDATA
from tests.support.server import TidegateServer

pytestmark = pytest.mark.integration


def small_mirror(root: Path) -> Path:
    (root / "cisa-kev").mkdir(parents=True)
    (root / "ghsa").mkdir()
    os.symlink(VULNDATA / "cisa-kev" / "cisa-kev.tar.xz", root / "cisa-kev" / "cisa-kev.tar.xz")
    os.symlink(VULNDATA / "ghsa" / "ghsa-nuget.tar.xz", root / "ghsa" / "ghsa-nuget.tar.xz")
    return root


def test_first_start_imports_the_vulnerability_db(tmp_path: Path) -> None:
    mirror = small_mirror(tmp_path / "mirror")
    server = TidegateServer(
        tmp_path / "data",
        env={
            "TIDEGATE_ANONYMOUS_ACCESS": "pull",
            "TIDEGATE_API_ANONYMOUS_ACCESS": "true",
            "TIDEGATE_VULNDB_IMPORT_ON_START": "true",
        },
        args=["--vulndb-source", str(mirror)],
    )
    with server:
        deadline = time.monotonic() + 120
        while True:
            status = httpx.get(f"{server.url}/api/status").json()
            if status["vulndbVersion"] == 1:
                break
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.5)
    assert (tmp_path / "data" / "credentials").stat().st_mode & 0o777 == 0o600
    lines = [json.loads(x) for x in server.log().splitlines() if x.startswith("{")]
    assert lines == []  # the test harness asks for text logs
    assert "path=/api/status status=200" in server.log()


def test_json_request_log_lines(tmp_path: Path) -> None:
    server = TidegateServer(
        tmp_path / "data",
        env={"TIDEGATE_ANONYMOUS_ACCESS": "push", "TIDEGATE_LOG_FORMAT": "json"},
    )
    with server:
        httpx.get(f"{server.url}/v2/nope/tags/list")
    entries = [json.loads(x) for x in server.log().splitlines() if x.startswith("{")]
    access = [e for e in entries if e["logger"] == "tidegate.access"]
    assert any(
        e["path"] == "/v2/nope/tags/list" and e["status"] == 404 and e["method"] == "GET"
        for e in access
    )


def test_sigterm_lets_in_flight_requests_finish(tmp_path: Path) -> None:
    server = TidegateServer(tmp_path / "data", env={"TIDEGATE_ANONYMOUS_ACCESS": "push"})
    server.start()
    assert server.proc is not None
    data = os.urandom(1 << 20)
    sock = socket.create_connection(("127.0.0.1", server.port))
    head = (
        f"POST /v2/slow/upload/blobs/uploads/?digest={sha256(data)} HTTP/1.1\r\n"
        f"Host: {server.host}\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n"
    )
    sock.sendall(head.encode() + data[: len(data) // 2])
    time.sleep(0.5)
    server.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    sock.sendall(data[len(data) // 2 :])
    reply = b""
    while chunk := sock.recv(65536):
        reply += chunk
    sock.close()
    assert reply.startswith(b"HTTP/1.1 201"), reply[:200]
    assert server.proc.wait(30) == 0
    server.proc = None
    # The blob was committed whole before the process exited.
    with TidegateServer(tmp_path / "data", env={"TIDEGATE_ANONYMOUS_ACCESS": "push"}) as again:
        got = httpx.get(f"{again.url}/v2/slow/upload/blobs/{sha256(data)}")
        assert got.content == data
