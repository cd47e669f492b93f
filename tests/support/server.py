"""Start a real `tidegate serve` process on a free loopback port for integration tests.

    with TidegateServer(tmp_path / "data", env={"TIDEGATE_ANONYMOUS_ACCESS": "push"}) as srv:
        httpx.get(srv.url + "/v2/")
        srv.kill9(); srv.start()          # crash and restart on the same data dir and port

The process runs `python -m tidegate serve` from the test interpreter, so it exercises the
real CLI, settings loading, migrations and uvicorn.
"""

from __future__ import annotations

import configparser
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
import httpx
from botocore.config import Config
from botocore.exceptions import ClientError


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class TidegateServer:
    """A `tidegate serve` subprocess; stderr goes to `<data_dir>/../server-<port>.log`."""

    def __init__(
        self,
        data_dir: Path,
        *,
        env: dict[str, str] | None = None,
        args: list[str] | None = None,
        port: int | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.extra_env = env or {}
        self.extra_args = args or []
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def access_key(self) -> tuple[str, str]:
        """The (key id, secret) the server wrote to `<data_dir>/credentials` on first start."""
        creds = configparser.ConfigParser()
        creds.read(self.data_dir / "credentials")
        return creds["default"]["aws_access_key_id"], creds["default"]["aws_secret_access_key"]

    def ecr(self, key: tuple[str, str] | None = None) -> Any:
        """A boto3 ECR client for this server, signed with `key` (default: its access key).

        No retries: a test sees the server's first answer.
        """
        return self.client("ecr", key)

    def inspector2(self, key: tuple[str, str] | None = None) -> Any:
        """A boto3 Inspector2 client for this server, as `ecr` is."""
        return self.client("inspector2", key)

    def client(self, service: str, key: tuple[str, str] | None = None) -> Any:
        key_id, secret = key or self.access_key()
        return boto3.client(
            service, endpoint_url=self.url, region_name="us-east-1",
            aws_access_key_id=key_id, aws_secret_access_key=secret,
            config=Config(retries={"max_attempts": 1}),
        )  # fmt: skip

    def start(self, timeout: float = 30.0) -> None:
        # No test reaches the internet: the first-start import of the upstream feeds is off
        # unless a test asks for it (with a local mirror).
        env = {
            **os.environ,
            "TIDEGATE_LOG_FORMAT": "text",
            "TIDEGATE_VULNDB_IMPORT_ON_START": "false",
            **self.extra_env,
        }
        # One server process unless a test asks for more: a test about one behaviour should
        # not depend on which of several processes its connection lands on.
        processes = [] if "--workers" in self.extra_args else ["--workers", "1"]
        cmd = [
            sys.executable, "-m", "tidegate", "serve",
            "--data-dir", str(self.data_dir), "--port", str(self.port), *processes,
            *self.extra_args,
        ]  # fmt: skip
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                msg = f"tidegate exited with {self.proc.returncode}:\n{self.log()}"
                raise RuntimeError(msg)
            try:
                httpx.get(self.url + "/v2/", timeout=1.0)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        msg = f"tidegate did not start in {timeout}s:\n{self.log()}"
        raise RuntimeError(msg)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM and wait: the server finishes in-flight requests and exits."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code = self.proc.returncode
        self.proc = None
        return code

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc = None

    def __enter__(self) -> TidegateServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def refused_within(call: Callable[[], object], seconds: float) -> str:
    """Repeat an ECR call until it is refused; the refusal's error code (fails past `seconds`)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            call()
        except ClientError as exc:
            code: str = exc.response["Error"]["Code"]
            return code
        assert time.monotonic() < deadline, f"still accepted after {seconds}s"
        time.sleep(0.2)
