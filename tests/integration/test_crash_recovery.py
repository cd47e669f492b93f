"""Crash recovery at start: a server killed -9 mid-scan is restarted and the scan resumes
within seconds (its dead predecessor's job is reclaimed, not left to the 5-minute lease),
the orphaned analysis child is gone, and the dead process's scratch space is swept."""

from __future__ import annotations

import io
import json
import tarfile
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import OCI_MANIFEST, push_blob, put_manifest
from tests.support.server import TidegateServer

pytestmark = [pytest.mark.integration]

PLUGIN = "tests.support.faulty_analyzer"


def _fault_layer(order: str) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        info = tarfile.TarInfo("fault")
        info.size = len(order)
        tar.addfile(info, io.BytesIO(order.encode()))
    return out.getvalue()


def _analysis_children(pid: int) -> list[int]:
    return [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
        if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
    ]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_kill9_mid_scan_resumes_at_restart(tmp_path: Path) -> None:
    marker = tmp_path / "analysing"
    config = tmp_path / "tidegate.toml"
    config.write_text(f'analyzer_plugins = ["{PLUGIN}"]\n')
    env = {"TIDEGATE_ANONYMOUS_ACCESS": "push", "TIDEGATE_WORKERS": "1"}
    srv = TidegateServer(tmp_path / "data", env=env, args=["--config", str(config)])
    srv.start()
    try:
        srv.ecr().create_repository(
            repositoryName="crash/scan", imageScanningConfiguration={"scanOnPush": True}
        )
        with httpx.Client(base_url=srv.url, timeout=30) as v2:
            layer = _fault_layer(f"once:{marker}")
            cfg = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"}}'
            doc = {
                "schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": push_blob(v2, "crash/scan", cfg), "size": len(cfg)},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                            "digest": push_blob(v2, "crash/scan", layer), "size": len(layer)}],
            }  # fmt: skip
            assert put_manifest(v2, "crash/scan", "v1", json.dumps(doc).encode()).status_code == 201
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert time.monotonic() < deadline, srv.log()
            time.sleep(0.1)
        assert srv.proc is not None
        dead_pid = srv.proc.pid
        children = _analysis_children(dead_pid)
        assert children
        scratch = srv.data_dir / "scratch"
        [dead_scratch] = [p for p in scratch.iterdir() if f":{dead_pid}:" in p.name]
        srv.kill9()
        # The analysis child dies with the server instead of reading on for its budget.
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in children):
            assert time.monotonic() < deadline, "the orphaned analysis child lives on"
            time.sleep(0.1)
        assert dead_scratch.exists()  # nothing cleaned up after a kill -9 ...
        restarted = time.monotonic()
        srv.start()
        ecr = srv.ecr()
        while True:
            out = ecr.describe_image_scan_findings(
                repositoryName="crash/scan", imageId={"imageTag": "v1"}
            )
            status = out["imageScanStatus"]
            if status["status"] not in ("PENDING", "IN_PROGRESS"):
                break
            assert time.monotonic() - restarted < 30, status  # the lease is 300 s
            time.sleep(0.2)
        # The retried scan read the image through (the fault fires once); without a
        # vulnerability DB it ends there, which is a final state all the same.
        assert status["status"] == "FAILED"
        assert "vulnerability database" in status["description"]
        assert not dead_scratch.exists()  # ... until the restart swept it
        print(f"\nscan resumed and ended {time.monotonic() - restarted:.1f} s after restart")
    finally:
        srv.stop()
