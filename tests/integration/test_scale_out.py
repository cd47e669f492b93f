"""Scale-out with real processes: PostgreSQL, two `serve --no-workers` replicas, two workers.

Every process has its own data directory; what they share is the PostgreSQL database and
the blob store: a SeaweedFS bucket (the `blob_storage` fixture), reached through the
`[storage]` S3 driver. One cluster serves the whole module, and the tests
run in order: each leaves every process running again for the next.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy.engine import Engine

from tests.integration.conftest import OCI_MANIFEST, push_blob, put_manifest
from tests.support.postgres import fresh_database
from tests.support.scan_fixtures import advisory, mirror, npm_image, skopeo_push
from tests.support.seaweed import SeaweedS3
from tests.support.server import TidegateServer, free_port
from tidegate import schema as t
from tidegate.auth.secrets_box import KEY_FILE
from tidegate.db import create_engine
from tidegate.scanner.vulndb import layout

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.slow]

PLUGIN = "tests.support.faulty_analyzer"
LEASE_SECONDS = 3

LODASH = advisory("GHSA-aaaa-bbbb-cccc", "CVE-2020-8203", "lodash", "4.17.19")
MINIMIST = advisory("GHSA-dddd-eeee-ffff", "CVE-2021-44906", "minimist", "1.2.6")


def wait_until(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"not within {seconds}s: {what}"
        time.sleep(0.2)


class Receiver:
    """A webhook receiver that answers after `delay` seconds and counts requests in flight:
    one sender at a time never has two."""

    def __init__(self) -> None:
        self.port = free_port()
        self.delay = 0.0
        self.lock = threading.Lock()
        self.event_ids: list[str] = []
        self.in_flight = self.max_in_flight = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.in_flight += 1
                    receiver.max_in_flight = max(receiver.max_in_flight, receiver.in_flight)
                time.sleep(receiver.delay)
                with receiver.lock:
                    receiver.in_flight -= 1
                    receiver.event_ids.append(json.loads(body)["id"])
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class Worker:
    """A `tidegate worker` subprocess (its log beside its data directory)."""

    def __init__(self, data_dir: Path, env: dict[str, str]) -> None:
        self.data_dir = data_dir
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / f"{data_dir.name}.log"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        cmd = [sys.executable, "-m", "tidegate", "worker", "--data-dir", str(self.data_dir),
               "--concurrency", "1"]  # fmt: skip
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                cmd, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT
            )

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


@dataclass
class Cluster:
    root: Path
    url: str
    db: Engine
    env: dict[str, str]
    replicas: tuple[TidegateServer, TidegateServer]
    workers: tuple[Worker, Worker]
    receiver: Receiver

    def auth(self) -> tuple[str, str]:
        return self.replicas[0].access_key()

    def v2(self, replica: int) -> httpx.Client:
        return httpx.Client(base_url=self.replicas[replica].url, auth=self.auth(), timeout=30)

    def db_update(self, records: list[dict[str, object]], name: str) -> None:
        """`tidegate db update`, once, from a data directory of its own."""
        done = subprocess.run(
            [sys.executable, "-m", "tidegate", "db", "update", "--only", "ghsa-npm",
             "--source", str(mirror(self.root / name, records)),
             "--data-dir", str(self.root / f"admin-{name}")],
            env={**os.environ, **self.env}, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr

    def scalar(self, query: sa.Executable) -> object:
        with self.db.connect() as conn:
            return conn.execute(query).scalar()


@pytest.fixture(scope="module")
def blob_storage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Where every process keeps blobs: one SeaweedFS bucket, the scale-out layout of
    docs/deploy.md (a shared filesystem directory, `blob_root`, works the same way)."""
    with SeaweedS3(tmp_path_factory.mktemp("weed") / "data", bucket="scale-out") as s3:
        yield {"TIDEGATE_STORAGE": json.dumps(s3.storage())}


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, blob_storage: dict[str, str]
) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("scale-out")
    config = root / "tidegate.toml"
    config.write_text(f'analyzer_plugins = ["{PLUGIN}"]\n')
    with fresh_database() as url, Receiver() as receiver:
        env = {
            "TIDEGATE_DATABASE_URL": url,
            "TIDEGATE_CONFIG": str(config),
            "TIDEGATE_LOG_FORMAT": "text",
            "TIDEGATE_VULNDB_IMPORT_ON_START": "false",
            "TIDEGATE_SCAN_LEASE_SECONDS": str(LEASE_SECONDS),
            "TIDEGATE_ANONYMOUS_ACCESS": "push",  # skopeo pushes; httpx sends credentials
            "TIDEGATE_WEBHOOKS": json.dumps([{"url": receiver.url, "secret": "a webhook secret"}]),
            "TIDEGATE_EVENTS": json.dumps({"poll_interval_seconds": 0.5}),
            **blob_storage,
        }
        db = create_engine(url)
        replicas = (
            TidegateServer(root / "replica-a", env=env, args=["--no-workers"]),
            TidegateServer(root / "replica-b", env=env, args=["--no-workers"]),
        )
        workers = (Worker(root / "worker-1", env), Worker(root / "worker-2", env))
        # Access-key secrets are sealed with the master key: every process needs the same one.
        master_key = Fernet.generate_key() + b"\n"
        for data_dir in [*(r.data_dir for r in replicas), *(w.data_dir for w in workers)]:
            data_dir.mkdir()
            (data_dir / KEY_FILE).write_bytes(master_key)
        c = Cluster(root, url, db, env, replicas, workers, receiver)
        try:
            for replica in replicas:  # one at a time: the first creates the schema
                replica.start()
            c.db_update([LODASH], "v1")
            for worker in workers:
                worker.start()
            yield c
        finally:
            for worker in workers:
                worker.stop()
            for replica in replicas:
                replica.stop()
            db.dispose()


def _status(client: httpx.Client, location: str) -> int:
    r = client.get(location)
    assert r.status_code == 204, r.text
    return int(r.headers["Range"].partition("-")[2]) + 1


def _patch(client: httpx.Client, location: str, start: int, part: bytes) -> httpx.Response:
    r = client.patch(
        location,
        content=part,
        headers={
            "Content-Type": "application/octet-stream",
            "Content-Range": f"{start}-{start + len(part) - 1}",
        },
    )
    assert r.status_code == 202, r.text
    return r


def test_chunked_upload_started_on_one_replica_is_finished_on_the_other(cluster: Cluster) -> None:
    data = os.urandom(3 << 20)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    a, b = cluster.v2(0), cluster.v2(1)
    r = a.post("/v2/scale/chunks/blobs/uploads/")
    assert r.status_code == 202, r.text
    location = r.headers["Location"]
    location = _patch(a, location, 0, data[: 1 << 20]).headers["Location"]
    assert _status(b, location) == 1 << 20
    location = _patch(b, location, 1 << 20, data[1 << 20 : 2 << 20]).headers["Location"]
    location = _patch(a, location, 2 << 20, data[2 << 20 :]).headers["Location"]
    r = b.put(location, params={"digest": digest})
    assert r.status_code == 201, r.text
    assert a.get(f"/v2/scale/chunks/blobs/{digest}", follow_redirects=True).content == data


def test_a_replica_killed_mid_upload_loses_nothing_acknowledged(cluster: Cluster) -> None:
    data = os.urandom(2 << 20)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    replica_a = cluster.replicas[0]
    a, b = cluster.v2(0), cluster.v2(1)
    location = a.post("/v2/scale/killed/blobs/uploads/").headers["Location"]
    location = _patch(a, location, 0, data[: 1 << 20]).headers["Location"]
    # A second chunk is half sent when replica A dies.
    with socket.create_connection(("127.0.0.1", replica_a.port)) as sock:
        user, password = cluster.auth()
        token = httpx.BasicAuth(user, password).auth_flow(httpx.Request("GET", "/"))
        header = next(token).headers["Authorization"]
        head = (
            f"PATCH {location} HTTP/1.1\r\nHost: {replica_a.host}\r\n"
            f"Authorization: {header}\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Range: {1 << 20}-{(2 << 20) - 1}\r\nContent-Length: {1 << 20}\r\n\r\n"
        )
        sock.sendall(head.encode() + data[1 << 20 : 3 << 19])
        time.sleep(0.5)
        replica_a.kill9()
    try:
        offset = _status(b, location)
        assert offset >= 1 << 20  # the acknowledged chunk survived; never a byte it lost
        location = _patch(b, location, offset, data[offset:]).headers["Location"]
        r = b.put(location, params={"digest": digest})
        assert r.status_code == 201, r.text
        assert b.get(f"/v2/scale/killed/blobs/{digest}", follow_redirects=True).content == data
    finally:
        replica_a.start()


def _findings(ecr: object, repo: str) -> tuple[str, set[str]]:
    out = ecr.describe_image_scan_findings(  # type: ignore[attr-defined]
        repositoryName=repo, imageId={"imageTag": "v1"}
    )
    ids = {
        f["packageVulnerabilityDetails"]["vulnerabilityId"]
        for f in out.get("imageScanFindings", {}).get("enhancedFindings", [])
    }
    return out["imageScanStatus"]["status"], ids


def test_pushes_through_both_replicas_are_each_scanned_exactly_once(cluster: Cluster) -> None:
    ecr = cluster.replicas[1].ecr(cluster.auth())
    ecr.put_registry_scanning_configuration(
        scanType="ENHANCED",
        rules=[{"scanFrequency": "SCAN_ON_PUSH",
                "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}]}],
    )  # fmt: skip
    image = cluster.root / "npm-image"
    npm_image(image)
    skopeo_push(cluster.replicas[0].host, image, "scale/via-a:v1")
    skopeo_push(cluster.replicas[1].host, image, "scale/via-b:v1")
    for repo in ("scale/via-a", "scale/via-b"):
        wait_until(partial(_scanned, ecr, repo), 120, f"{repo} scanned")
        # Matched against the DB version the workers fetched from PostgreSQL.
        assert "CVE-2020-8203" in _findings(ecr, repo)[1]
    time.sleep(2 * LEASE_SECONDS)  # a duplicate would have been claimed by now
    for repo in ("scale/via-a", "scale/via-b"):
        usage = sa.select(sa.func.count()).where(t.scan_usage.c.repository_name == repo)
        assert cluster.scalar(usage) == 1
    jobs = sa.select(sa.func.count()).where(t.scan_jobs.c.kind == "scan")
    assert cluster.scalar(jobs) == 2


def _fault_layer(order: str) -> bytes:
    """The fault file (the analysis waits once) beside a package with a known advisory."""
    out = io.BytesIO()
    files = {
        "fault": order.encode(),
        "app/node_modules/lodash/package.json": b'{"name":"lodash","version":"4.17.15"}',
    }
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_a_worker_killed_mid_scan_is_recovered_by_the_other(cluster: Cluster) -> None:
    marker = cluster.root / "analysing"
    repo = "scale/killed-scan"
    with cluster.v2(0) as v2:
        layer = _fault_layer(f"once:{marker}")
        cfg = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"}}'
        doc = {
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": push_blob(v2, repo, cfg), "size": len(cfg)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                        "digest": push_blob(v2, repo, layer), "size": len(layer)}],
        }  # fmt: skip
        assert put_manifest(v2, repo, "v1", json.dumps(doc).encode()).status_code == 201
    wait_until(marker.exists, 60, "a worker is analysing the image")
    job = sa.select(t.scan_jobs).where(
        t.scan_jobs.c.kind == "scan", t.scan_jobs.c.state == "running"
    )
    with cluster.db.connect() as conn:
        [running] = conn.execute(job).all()
    [victim] = [w for w in cluster.workers if f":{w.pid}:" in running.lease_owner]
    [survivor] = [w for w in cluster.workers if w is not victim]
    victim.kill9()
    killed = time.monotonic()
    try:
        ecr = cluster.replicas[1].ecr(cluster.auth())
        wait_until(lambda: _findings(ecr, repo)[0] not in ("PENDING", "IN_PROGRESS"), 60, "rescued")
        assert _findings(ecr, repo) == ("COMPLETE", {"CVE-2020-8203"})
        with cluster.db.connect() as conn:
            done = conn.execute(sa.select(t.scan_jobs).where(t.scan_jobs.c.id == running.id)).one()
        assert done.state == "done"
        assert done.attempts == 2
        print(f"\nscan taken over and finished {time.monotonic() - killed:.1f} s after the kill")
        assert survivor.proc is not None
        assert survivor.proc.poll() is None
    finally:
        victim.start()


def _vulndb_version(client: httpx.Client) -> int | None:
    r = client.get("/api/status")
    assert r.status_code == 200, r.text
    version: int | None = r.json()["vulndbVersion"]
    return version


def _scanned(ecr: object, repo: str) -> bool:
    return _findings(ecr, repo)[0] == "COMPLETE"


def _has_version(client: httpx.Client, version: int) -> bool:
    return _vulndb_version(client) == version


def _holds_version(vulndb: Path, version: int) -> bool:
    return layout.current_version(vulndb) == version


def test_one_db_update_reaches_every_process(cluster: Cluster) -> None:
    clients = [cluster.v2(0), cluster.v2(1)]
    before = _vulndb_version(clients[0])
    assert before is not None
    assert _vulndb_version(clients[1]) == before
    cluster.db_update([LODASH, MINIMIST], "v2")
    after = before + 1
    for client in clients:
        wait_until(partial(_has_version, client, after), 30, "replica fetched")
    for worker in cluster.workers:
        vulndb = worker.data_dir / "vulndb"
        wait_until(partial(_holds_version, vulndb, after), 30, "worker fetched")
    # One continuous re-scan for the new version, whichever process claimed it.
    rescans = sa.select(sa.func.count()).where(t.scan_jobs.c.digest == f"vulndb-{after}")
    assert cluster.scalar(rescans) == 1
    ecr = cluster.replicas[0].ecr(cluster.auth())
    # The re-scan is not wanted here (SCAN_ON_PUSH repositories), but a new scan matches the
    # new version on whichever worker runs it.
    image = cluster.root / "npm-image"
    skopeo_push(cluster.replicas[1].host, image, "scale/after-update:v1")
    wait_until(lambda: _findings(ecr, "scale/after-update")[0] == "COMPLETE", 120, "scanned")
    assert "CVE-2021-44906" in _findings(ecr, "scale/after-update")[1]


def test_one_replica_at_a_time_delivers_the_outbox_each_event_once(cluster: Cluster) -> None:
    receiver = cluster.receiver
    receiver.delay = 0.3  # a pass now lasts seconds: long enough for a second one to overlap
    receiver.max_in_flight = 0
    with cluster.v2(0) as v2:
        cfg = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"}}'
        doc = {
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": push_blob(v2, "scale/events", cfg), "size": len(cfg)},
            "layers": [],
        }  # fmt: skip
        for n in range(10):
            assert (
                put_manifest(v2, "scale/events", f"t{n}", json.dumps(doc).encode()).status_code
                == 201
            )

    def outbox() -> set[str]:
        with cluster.db.connect() as conn:
            return {row[0] for row in conn.execute(sa.select(t.events_outbox.c.event_id))}

    def all_delivered() -> bool:
        with receiver.lock:
            return set(receiver.event_ids) >= outbox()

    wait_until(all_delivered, 60, "every event delivered")
    time.sleep(2)  # a second delivery by the other replica would arrive meanwhile
    event_ids = outbox()
    assert len(event_ids) >= 16  # pushes and completed scans of this module
    assert sorted(receiver.event_ids) == sorted(event_ids)
    assert receiver.max_in_flight == 1
    # Both replicas ran dispatchers; each event went into exactly one replica's event log.
    logged: list[str] = []
    for replica in cluster.replicas:
        log = replica.data_dir / "events" / "events.jsonl"
        if log.exists():
            logged += [json.loads(line)["id"] for line in log.read_text().splitlines()]
    assert sorted(logged) == sorted(event_ids)
