"""Loopback registries for source tests.

* `DistributionRegistry`: the real CNCF Distribution registry (Debian's `docker-registry`
  binary) on 127.0.0.1, filled with `skopeo copy`.
* `TokenRegistry`: a small read-only /v2/ server over an OCI layout that demands a Bearer
  token from its own /token endpoint (Basic-authenticated), or plain Basic auth; it exists
  to exercise the auth challenge flow, which the real registry needs TLS certificates for.
"""

from __future__ import annotations

import base64
import json
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

import httpx

from tests.support.server import free_port


class DistributionRegistry:
    """`docker-registry serve` on a free loopback port, storage under `root`."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        root.mkdir(parents=True, exist_ok=True)
        config = root / "config.yml"
        config.write_text(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
            f"    rootdirectory: {root / 'data'}\nhttp:\n  addr: {self.host}\n"
        )
        self.proc = subprocess.Popen(
            ["docker-registry", "serve", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://{self.host}/v2/", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.close()
        msg = "docker-registry did not start"
        raise RuntimeError(msg)

    def push(self, src: str, repo_tag: str, *, all_platforms: bool = False) -> None:
        argv = ["skopeo", "copy", "-q", "--dest-tls-verify=false"]
        if all_platforms:
            argv.append("--all")
        subprocess.run([*argv, src, f"docker://{self.host}/{repo_tag}"], check=True)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)

    def __enter__(self) -> DistributionRegistry:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class TokenRegistry:
    """Serves `layout` as repository `repo`; mode "bearer" or "basic"; `corrupt` flips bytes."""

    def __init__(self, layout: Path, repo: str, user: str, password: str, mode: str) -> None:
        self.layout = layout
        self.token = "t0k3n"
        self.corrupt_blobs = False
        basic = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def _send(self, code: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(code)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                auth = self.headers.get("Authorization", "")
                if self.path.startswith("/token"):
                    if auth != basic:
                        self._send(401, b"{}", {})
                        return
                    self._send(200, json.dumps({"token": outer.token}).encode(), {})
                    return
                wanted = basic if mode == "basic" else f"Bearer {outer.token}"
                if auth != wanted:
                    challenge = (
                        'Basic realm="test"'
                        if mode == "basic"
                        else f'Bearer realm="http://{outer.host}/token",service="test",'
                        f'scope="repository:{repo}:pull"'
                    )
                    self._send(401, b"{}", {"WWW-Authenticate": challenge})
                    return
                prefix = f"/v2/{repo}/"
                if not self.path.startswith(prefix):
                    self._send(404, b"{}", {})
                    return
                kind, _, ref = self.path[len(prefix) :].partition("/")
                if kind == "manifests" and not ref.startswith("sha256:"):
                    index = json.loads((outer.layout / "index.json").read_text())
                    ref = index["manifests"][0]["digest"]
                blob = outer.layout / "blobs" / "sha256" / ref.removeprefix("sha256:")
                if not blob.is_file():
                    self._send(404, b"{}", {})
                    return
                data = blob.read_bytes()
                if kind == "blobs" and outer.corrupt_blobs:
                    data = data[:-1] + bytes([data[-1] ^ 1])
                ctype = json.loads(data).get("mediaType", "") if kind == "manifests" else ""
                self._send(200, data, {"Content-Type": ctype or "application/octet-stream"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
