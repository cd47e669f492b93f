"""Resource budgets against a real server: a hostile image ends FAILED naming the budget.

The bombs are generated as the test runs (tests/support/bombs.py) and pushed like any
layer; the scan must fail quickly, saying which budget and which layer.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import OCI_MANIFEST, push_blob, put_manifest, sha256
from tests.support.bombs import MiB, gzip_bomb
from tests.support.server import TidegateServer

pytestmark = [pytest.mark.integration]

CONFIG = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"}}'


def tar_layer(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", compresslevel=1) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def push_image(
    v2: httpx.Client, name: str, layers: list[tuple[str, int]], config: bytes = CONFIG
) -> None:
    doc = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": push_blob(v2, name, config),
            "size": len(config),
        },
        "layers": [
            {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": n}
            for d, n in layers
        ],
    }
    assert put_manifest(v2, name, "v1", json.dumps(doc).encode()).status_code == 201


def blob(v2: httpx.Client, name: str, data: bytes) -> tuple[str, int]:
    return push_blob(v2, name, data), len(data)


def final_status(ecr: Any, name: str, seconds: float) -> dict[str, str]:
    deadline = time.monotonic() + seconds
    while True:
        out = ecr.describe_image_scan_findings(repositoryName=name, imageId={"imageTag": "v1"})
        status: dict[str, str] = out["imageScanStatus"]
        if status["status"] not in ("PENDING", "IN_PROGRESS"):
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.3)


def analysis_cpu_seconds(server_pid: int) -> float:
    """CPU time of the server's analysis children (spawned multiprocessing workers)."""
    total = 0.0
    for task in Path(f"/proc/{server_pid}/task").iterdir():
        for pid in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"spawn_main" not in cmdline or b"resource_tracker" in cmdline:
                continue
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


@pytest.mark.slow
def test_a_2_gib_bomb_at_230_to_1_fails_by_the_ratio_budget(tmp_path: Path) -> None:
    bomb = gzip_bomb(2 << 30)
    assert 200 < bomb.ratio < 260
    with TidegateServer(tmp_path / "data", env={"TIDEGATE_ANONYMOUS_ACCESS": "push"}) as srv:
        ecr = srv.ecr()
        ecr.create_repository(
            repositoryName="bombs/ratio", imageScanningConfiguration={"scanOnPush": True}
        )
        with httpx.Client(base_url=srv.url, timeout=120) as v2:
            start = v2.post("/v2/bombs/ratio/blobs/uploads/")
            r = v2.put(start.headers["Location"], params={"digest": bomb.digest},
                       content=bomb.chunks())  # fmt: skip
            assert r.status_code == 201, r.text
            began = time.monotonic()
            push_image(v2, "bombs/ratio", [(bomb.digest, bomb.size)])
            status = final_status(ecr, "bombs/ratio", 120)
            took = time.monotonic() - began
        assert srv.proc is not None
        cpu = analysis_cpu_seconds(srv.proc.pid)
    assert status["status"] == "FAILED"
    assert "budget max_compression_ratio" in status["description"]
    assert bomb.digest in status["description"]
    print(f"\n2 GiB bomb at {bomb.ratio:.0f}:1: FAILED after {took:.1f} s, "
          f"{cpu:.1f} CPU-seconds of analysis")  # fmt: skip


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TidegateServer]:
    """A server whose budgets are small enough for a test to exceed each one on its own."""
    env = {
        "TIDEGATE_ANONYMOUS_ACCESS": "push",
        "TIDEGATE_MAX_LAYER_UNCOMPRESSED_BYTES": str(8 * MiB),
        "TIDEGATE_MAX_IMAGE_UNCOMPRESSED_BYTES": str(12 * MiB),
        "TIDEGATE_MAX_FILES_PER_IMAGE": "500",
        "TIDEGATE_MAX_CONFIG_BYTES": "2048",
        "TIDEGATE_MAX_COMPRESSION_RATIO": "50",
        "TIDEGATE_COMPRESSION_RATIO_AFTER_BYTES": str(4 * MiB),
    }
    with TidegateServer(tmp_path_factory.mktemp("tight") / "data", env=env) as srv:
        srv.ecr().put_registry_scanning_configuration(
            scanType="BASIC",
            rules=[{"scanFrequency": "SCAN_ON_PUSH",
                    "repositoryFilters": [{"filter": "budget/*", "filterType": "WILDCARD"}]}],
        )  # fmt: skip
        yield srv


def _random(n: int) -> bytes:
    return os.urandom(n)  # incompressible: only the size budgets apply


@pytest.mark.parametrize("budget", [
    "max_layer_uncompressed_bytes", "max_image_uncompressed_bytes", "max_files_per_image",
    "max_config_bytes", "max_compression_ratio",
])  # fmt: skip
def test_each_budget_fails_the_scan_naming_it(tight: TidegateServer, budget: str) -> None:
    name = f"budget/{budget.replace('_', '-')}"
    with httpx.Client(base_url=tight.url, timeout=60) as v2:
        layers: list[tuple[str, int]] = []
        config = CONFIG
        if budget == "max_layer_uncompressed_bytes":
            layers = [blob(v2, name, tar_layer({"big": _random(10 * MiB)}))]
        elif budget == "max_image_uncompressed_bytes":
            layers = [blob(v2, name, tar_layer({f"part{i}": _random(7 * MiB)})) for i in (1, 2)]
        elif budget == "max_files_per_image":
            layers = [blob(v2, name, tar_layer({f"f{i}": b"" for i in range(600)}))]
        elif budget == "max_config_bytes":
            layers = [blob(v2, name, tar_layer({"a": b"a"}))]
            config = json.dumps({"os": "linux", "pad": "x" * 4096}).encode()
        else:
            layers = [blob(v2, name, tar_layer({"zeros": bytes(6 * MiB)}))]
        push_image(v2, name, layers, config)
    status = final_status(tight.ecr(), name, 60)
    assert status["status"] == "FAILED"
    assert f"(budget {budget})" in status["description"]
    if budget == "max_image_uncompressed_bytes":
        assert f"layer {layers[1][0]}" in status["description"]  # the layer that tipped it
    elif budget == "max_config_bytes":
        assert sha256(config) in status["description"]
    else:
        assert f"layer {layers[0][0]}" in status["description"]
