"""A real webhook receiver for tests: an HTTP server on loopback in a thread.

It verifies each request's HMAC signature itself (with the recipe the README gives), records
every request, answers with scripted statuses, and de-duplicates by event id the way a
consumer of at-least-once delivery must.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from tests.support.server import free_port


@dataclass(frozen=True, slots=True)
class Received:
    headers: dict[str, str]
    body: bytes
    signature_ok: bool

    @property
    def envelope(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value


class Receiver:
    """Records POSTs; `statuses` are answered in order, then 200 for every later request."""

    def __init__(self, secret: str, *, port: int | None = None, statuses: list[int] | None = None):
        self.secret = secret
        self.port = port or free_port()
        self.statuses = list(statuses or [])
        self.requests: list[Received] = []
        self.cond = threading.Condition()
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                expected = (
                    "sha256=" + hmac.new(receiver.secret.encode(), body, hashlib.sha256).hexdigest()
                )
                given = self.headers.get("X-Tidegate-Signature", "")
                with receiver.cond:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.requests.append(
                        Received(dict(self.headers), body, hmac.compare_digest(expected, given))
                    )
                    receiver.cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output quiet

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        if self.thread is not None:
            self.thread.join()
            self.thread = None

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate(self.requests):
                left = deadline - time.monotonic()
                if left <= 0:
                    msg = f"receiver did not see the expected requests: {self.summary()}"
                    raise AssertionError(msg)
                self.cond.wait(left)

    def summary(self) -> list[tuple[str, str | None]]:
        return [
            (r.envelope["detail-type"], r.headers.get("X-Tidegate-Event-Id")) for r in self.requests
        ]

    def unique_events(self) -> dict[str, dict[str, Any]]:
        """Consumer-side dedupe: one envelope per event id, whatever was delivered twice."""
        with self.cond:
            return {r.envelope["id"]: r.envelope for r in self.requests if r.signature_ok}
