"""DescribeImageScanFindings latency with 1,000 findings, and scan-on-push throughput.

    .venv/bin/python bench/engine_api.py [--calls 200] [--pushes 40]

Both run against a real `tidegate serve` process. Findings: one image whose scan stored
1,000 findings; SigV4-signed DescribeImageScanFindings requests (maxResults 1000, one page)
are timed on the wire (target p99 < 50 ms). Throughput: images with a real Debian package
database (a bookworm minbase's dpkg status, each with a unique layer) are pushed to a
scan-on-push repository and the time until every scan is COMPLETE gives images per minute.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import statistics
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

from tests.support import debian_image  # noqa: E402
from tests.support.paths import VULNDATA  # noqa: E402
from tests.support.scan_fixtures import db_update  # noqa: E402
from tests.support.server import TidegateServer  # noqa: E402
from tidegate import schema as t  # noqa: E402
from tidegate.db import create_engine  # noqa: E402
from tidegate.engine.finding_shapes import render_static_part  # noqa: E402
from tidegate.engine.findings import details_id  # noqa: E402

TARGET = "AmazonEC2ContainerRegistry_V20150921."


def signed_call(
    server: TidegateServer, creds: Credentials, op: str, body: dict[str, object]
) -> httpx.Request:
    data = json.dumps(body)
    req = AWSRequest(
        "POST",
        server.url + "/",
        data=data,
        headers={"X-Amz-Target": TARGET + op, "Content-Type": "application/x-amz-json-1.1"},
    )
    SigV4Auth(creds, "ecr", "us-east-1").add_auth(req)
    return httpx.Request("POST", server.url + "/", headers=dict(req.headers.items()), content=data)


def seed_findings(data: Path, count: int) -> None:
    engine = create_engine(f"sqlite:///{data / 'meta.db'}")
    now = time.time()
    digest = "sha256:" + "f" * 64
    with engine.begin() as conn:
        repo = conn.execute(sa.insert(t.repositories).values(name="bench/findings", created_at=now))
        repo_id = repo.inserted_primary_key[0]  # type: ignore[index]
        conn.execute(
            sa.insert(t.manifests).values(
                repository_id=repo_id,
                digest=digest,
                media_type="application/vnd.oci.image.manifest.v1+json",
                size=1000,
                image_size=1,
                pushed_at=now,
            )
        )
        conn.execute(
            sa.insert(t.tags).values(
                repository_id=repo_id, name="v1", manifest_id=1, updated_at=now
            )
        )
        conn.execute(
            sa.insert(t.image_scans).values(
                repository_id=repo_id,
                digest=digest,
                scan_type="ENHANCED",
                status="COMPLETE",
                description="",
                requested_at=now,
                completed_at=now,
                frequency="SCAN_ON_PUSH",
                severity_counts=json.dumps({"HIGH": count}),
            )
        )
        details = json.dumps(
            {
                "description": "A realistic description of a vulnerability " * 5,
                "references": [f"https://example.org/advisory/{i}" for i in range(5)],
                "aliases": ["GHSA-xxxx-yyyy-zzzz"],
                "source": "debian-osv",
                "cvss": [
                    {
                        "type": "CVSS_V3",
                        "score": 7.5,
                        "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
                    }
                ],
            }
        )
        rows = [
            {
                "repository_id": repo_id,
                "digest": digest,
                "scan_type": "ENHANCED",
                "finding_key": f"{i:032x}",
                "vuln_id": f"CVE-2024-{i:05d}",
                "package_name": f"pkg{i % 200}",
                "package_version": "1.2.3-1",
                "package_manager": "OS",
                "namespace": "Debian:12",
                "match_name": f"pkg{i % 200}",
                "file_path": "var/lib/dpkg/status",
                "layer": "sha256:" + "a" * 64,
                "severity": "HIGH",
                "score": 7.5,
                "fixed_in": "1.2.4-1",
                "fix_available": "YES",
                "exploit_available": "NO",
                "status": "ACTIVE",
                "details": details,
                "first_observed_at": now,
                "last_observed_at": now,
                "updated_at": now,
            }
            for i in range(count)
        ]
        # As the scan's write path stores them (engine.findings._row): the long text once
        # per distinct content in finding_details.
        texts = {}
        for row in rows:
            shape = render_static_part(row)
            row["details_id"] = details_id(details, shape)
            texts[row["details_id"]] = {"id": row["details_id"], "details": details, "shape": shape}
            del row["details"]
        conn.execute(sa.insert(t.finding_details), list(texts.values()))
        conn.execute(sa.insert(t.findings), rows)
    engine.dispose()


def bench_findings(root: Path, calls: int) -> None:
    data = root / "findings" / "data"
    with TidegateServer(data, env={"TIDEGATE_ACCESS_LOG": "false"}) as server:
        seed_findings(data, 1000)
        creds = Credentials(*server.access_key())
        body = {
            "repositoryName": "bench/findings",
            "imageId": {"imageTag": "v1"},
            "maxResults": 1000,
        }
        latencies = []
        with httpx.Client(timeout=30) as client:
            for i in range(calls + 10):
                request = signed_call(server, creds, "DescribeImageScanFindings", body)
                started = time.perf_counter()
                response = client.send(request)
                elapsed = time.perf_counter() - started
                assert response.status_code == 200, response.text
                if i >= 10:  # warm-up
                    latencies.append(elapsed * 1000)
        found = len(response.json()["imageScanFindings"]["enhancedFindings"])
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(
        f"DescribeImageScanFindings, {found} findings: p50 {statistics.median(latencies):.1f} ms, "
        f"p99 {p99:.1f} ms over {len(latencies)} calls (target p99 < 50 ms: {p99 / 50:.2f}x)"
    )


def layer_with(status: bytes, salt: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, content in (
            ("etc/os-release", b'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n'),
            ("var/lib/dpkg/status", status),
            (f"srv/salt-{salt}", str(salt).encode()),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def push(client: httpx.Client, name: str, tag: str, layer: bytes) -> None:
    def blob(data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        r = client.post(f"/v2/{name}/blobs/uploads/", params={"digest": digest}, content=data)
        assert r.status_code == 201, r.text
        return digest

    diff = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [diff]}}
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": blob(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": blob(layer),
                    "size": len(layer),
                }
            ],
        }
    ).encode()
    r = client.put(
        f"/v2/{name}/manifests/{tag}",
        content=manifest,
        headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
    )
    assert r.status_code == 201, r.text


def bench_push_throughput(root: Path, pushes: int) -> None:
    data = root / "push" / "data"
    db_update(data, VULNDATA, only="debian-osv", timeout=None)
    status = (debian_image.base_rootfs() / "var/lib/dpkg/status").read_bytes()
    env = {"TIDEGATE_ANONYMOUS_ACCESS": "push", "TIDEGATE_ACCESS_LOG": "false"}
    with TidegateServer(data, env=env) as server:
        engine = create_engine(f"sqlite:///{data / 'meta.db'}")
        with httpx.Client(base_url=server.url, timeout=60) as client:
            push(client, "bench/push", "v0", layer_with(status, -1))
            with engine.begin() as conn:
                conn.execute(sa.update(t.repositories).values(scan_on_push=True))
            push(client, "bench/push", "warm", layer_with(status, -2))  # starts the pool
            wait_complete(engine, 1)
            started = time.perf_counter()
            for i in range(pushes):
                push(client, "bench/push", f"v{i + 1}", layer_with(status, i))
            wait_complete(engine, pushes + 1)
            elapsed = time.perf_counter() - started
        engine.dispose()
    print(
        f"scan on push: {pushes} images (bookworm package DB, BASIC) pushed and scanned in "
        f"{elapsed:.1f}s: {pushes / elapsed * 60:.0f} images/minute"
    )


def wait_complete(engine: sa.Engine, count: int) -> None:
    deadline = time.monotonic() + 1800
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            done = conn.execute(
                sa.select(sa.func.count())
                .select_from(t.image_scans)
                .where(t.image_scans.c.status.in_(("COMPLETE", "FAILED")))
            ).scalar_one()
        if done >= count:
            return
        time.sleep(0.2)
    raise TimeoutError("scans did not finish")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--pushes", type=int, default=40)
    args = parser.parse_args()
    os.environ.setdefault("TIDEGATE_LOG_FORMAT", "text")
    with tempfile.TemporaryDirectory(prefix="tidegate-api-bench-") as tmp:
        bench_findings(Path(tmp), args.calls)
        bench_push_throughput(Path(tmp), args.pushes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
