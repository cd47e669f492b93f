"""A real HTTP server on 127.0.0.1 serving a mirror directory, with ETag/Last-Modified.

Per-path faults can be injected: `truncate` (declares the full length, sends half, closes),
`body` (serves other bytes), `stall` (sends part of the body, then hangs until closed).
"""

from __future__ import annotations

import hashlib
import threading
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class MirrorServer:
    """Serve `root` in a background thread; `url` is its base URL."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.log: list[tuple[str, int]] = []
        self.truncate: set[str] = set()
        self.stall: set[str] = set()
        self.bodies: dict[str, bytes] = {}
        self.release = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def statuses(self) -> list[int]:
        """HTTP statuses answered so far, in order."""
        return [s for _, s in self.log]

    def close(self) -> None:
        """Stop serving and free the port."""
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def _handler(server: MirrorServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        def _reply(self, status: int, headers: dict[str, str], body: bytes = b"") -> None:
            server.log.append((self.path, status))
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            if body:
                self.wfile.write(body)

        def do_GET(self) -> None:
            rel = self.path.lstrip("/")
            path = server.root / rel
            if rel in server.bodies:
                data = server.bodies[rel]
                self._reply(200, {"Content-Length": str(len(data))}, data)
                return
            if not path.is_file():
                self._reply(404, {"Content-Length": "0"})
                return
            data = path.read_bytes()
            etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
            mtime = path.stat().st_mtime
            validators = {"ETag": etag, "Last-Modified": formatdate(mtime, usegmt=True)}
            if self._not_modified(etag, mtime):
                self._reply(304, validators)
                return
            headers = {"Content-Length": str(len(data)), **validators}
            if rel in server.truncate or rel in server.stall:
                server.log.append((self.path, 200))
                self.send_response(200)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                if rel in server.stall:
                    server.release.wait(60)
                self.close_connection = True
                return
            self._reply(200, headers, data)

        def _not_modified(self, etag: str, mtime: float) -> bool:
            inm = self.headers.get("If-None-Match")
            if inm is not None:
                return inm == etag
            ims = self.headers.get("If-Modified-Since")
            if ims:
                try:
                    return parsedate_to_datetime(ims).timestamp() >= int(mtime)
                except (TypeError, ValueError):
                    return False
            return False

    return Handler
