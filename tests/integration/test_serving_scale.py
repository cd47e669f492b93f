"""`serve --workers 2`: two server processes on one port, caches that a change in either
process invalidates, /metrics (Prometheus text, summed over the processes), /healthz, /readyz.
"""

from __future__ import annotations

import io
import json
import sqlite3
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import OCI_MANIFEST, image_manifest, put_manifest, sha256
from tests.support.postgres import ADMIN_URL, fresh_database
from tests.support.server import TidegateServer, free_port
from tidegate.db import create_engine

pytestmark = pytest.mark.integration

MANIFEST_ROUTE = "/v2/{name}/manifests/{reference}"


@pytest.fixture(scope="module")
def metrics_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, metrics_port: int) -> Iterator[TidegateServer]:
    data = tmp_path_factory.mktemp("scale") / "data"
    env = {"TIDEGATE_METRICS_BIND": f"127.0.0.1:{metrics_port}"}
    with TidegateServer(data, env=env, args=["--workers", "2"]) as srv:
        yield srv


@pytest.fixture
def client(server: TidegateServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, auth=server.access_key(), timeout=30.0) as c:
        yield c


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


def _fresh_get(server: TidegateServer, path: str) -> httpx.Response:
    """A GET on a new connection: the kernel may hand it to either process."""
    return httpx.get(
        server.url + path, auth=server.access_key(), headers={"Accept": OCI_MANIFEST}, timeout=30
    )


def _metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def test_two_server_processes_share_the_port(server: TidegateServer) -> None:
    assert server.proc is not None
    assert len(_children(server.proc.pid)) == 2
    assert _fresh_get(server, "/healthz").status_code == 200


def test_a_push_in_one_process_is_seen_by_pulls_in_both(
    server: TidegateServer, client: httpx.Client
) -> None:
    name = "scale/app"
    first = image_manifest(client, name, [b"layer one"])
    second = image_manifest(client, name, [b"layer two"])
    assert put_manifest(client, name, "v1", first).status_code == 201
    # Warm both processes' caches with the first manifest under the tag.
    for _ in range(30):
        r = _fresh_get(server, f"/v2/{name}/manifests/v1")
        assert r.headers["Docker-Content-Digest"] == sha256(first)
    assert put_manifest(client, name, "v1", second).status_code == 201
    for _ in range(30):
        r = _fresh_get(server, f"/v2/{name}/manifests/v1")
        assert r.status_code == 200
        assert r.headers["Docker-Content-Digest"] == sha256(second), "stale manifest served"
        assert r.content == second
    assert client.delete(f"/v2/{name}/manifests/v1").status_code == 202
    for _ in range(20):
        r = _fresh_get(server, f"/v2/{name}/manifests/v1")
        assert r.status_code == 404, "deleted tag still served"
        assert r.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"


def test_metrics_count_requests_of_both_processes(
    server: TidegateServer, client: httpx.Client
) -> None:
    name = "scale/metrics"
    body = image_manifest(client, name, [b"metrics layer"])
    assert put_manifest(client, name, "m1", body).status_code == 201
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    before = r.text
    for _ in range(6):
        assert _fresh_get(server, f"/v2/{name}/manifests/m1").status_code == 200
    after = client.get("/metrics").text
    labels = {"method": "GET", "route": MANIFEST_ROUTE, "status": "200"}
    counted = _metric(after, "tidegate_http_requests_total", **labels)
    assert counted - _metric(before, "tidegate_http_requests_total", **labels) == 6
    hist = "tidegate_http_request_duration_seconds_count"
    assert _metric(after, hist, **labels) - _metric(before, hist, **labels) == 6
    out = "tidegate_http_response_bytes_total"
    grown = _metric(after, out, route=MANIFEST_ROUTE) - _metric(before, out, route=MANIFEST_ROUTE)
    assert grown == 6 * len(body)
    assert _metric(after, "tidegate_http_request_bytes_total", route=MANIFEST_ROUTE) >= len(body)
    for gauge in (
        "tidegate_job_queue_depth",
        "tidegate_job_queue_oldest_age_seconds",
        "tidegate_outbox_deliveries",
        "tidegate_webhook_failures",
    ):
        assert f"\n{gauge}" in after, gauge
    # An open upload shows, and goes when cancelled.
    opened = client.post(f"/v2/{name}/blobs/uploads/")
    assert opened.status_code == 202
    assert _metric(client.get("/metrics").text, "tidegate_open_uploads") >= 1
    assert client.delete(opened.headers["Location"]).status_code == 204
    assert _metric(client.get("/metrics").text, "tidegate_open_uploads") == 0


def test_metrics_show_scan_jobs_run_by_the_first_process(
    server: TidegateServer, client: httpx.Client
) -> None:
    name = "scale/scanned"
    server.ecr().create_repository(
        repositoryName=name, imageScanningConfiguration={"scanOnPush": True}
    )
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w:gz") as tar:
        info = tarfile.TarInfo("etc/hostname")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"scan\n"))
    body = image_manifest(client, name, [layer.getvalue()])
    assert put_manifest(client, name, "s1", body).status_code == 201
    deadline = time.monotonic() + 60
    while True:
        text = client.get("/metrics").text  # from either process: the files are shared
        if _metric(text, "tidegate_scan_jobs_total", kind="scan") >= 1:
            break
        assert time.monotonic() < deadline, "no scan job finished within 60 s"
        time.sleep(0.5)
    assert _metric(text, "tidegate_scan_duration_seconds_count") >= 1


def test_metrics_need_credentials(server: TidegateServer) -> None:
    r = httpx.get(server.url + "/metrics")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Basic")
    assert "tidegate_http_requests_total" not in r.text
    key_id, _ = server.access_key()
    wrong = httpx.get(server.url + "/metrics", auth=(key_id, "not-the-secret"))
    assert wrong.status_code == 401


def test_metrics_bind_serves_without_credentials(metrics_port: int) -> None:
    r = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=30)
    assert r.status_code == 200
    assert "tidegate_http_requests_total" in r.text
    assert "tidegate_open_uploads" in r.text


def test_health_and_readiness_need_no_credentials(server: TidegateServer) -> None:
    assert httpx.get(server.url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(server.url + "/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}


def test_readyz_fails_while_the_schema_is_behind(server: TidegateServer) -> None:
    db = sqlite3.connect(server.data_dir / "meta.db", timeout=30)
    (head,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
    try:
        with db:
            db.execute("UPDATE alembic_version SET version_num = '0001'")
        for _ in range(4):  # whichever process answers
            r = httpx.get(server.url + "/readyz")
            assert r.status_code == 503
            (reason,) = r.json()["reasons"]
            assert f"migration 0001, this server needs {head}" in reason
    finally:
        with db:
            db.execute("UPDATE alembic_version SET version_num = ?", (head,))
        db.close()
    assert httpx.get(server.url + "/readyz").status_code == 200


def test_readyz_fails_while_postgres_refuses_and_recovers(tmp_path: Path) -> None:
    with fresh_database() as url:
        name = url.rsplit("/", 1)[1]
        env = {"TIDEGATE_DATABASE_URL": url}
        with TidegateServer(tmp_path / "data", env=env, args=["--no-workers"]) as srv:
            assert httpx.get(srv.url + "/readyz").status_code == 200
            admin = create_engine(ADMIN_URL)
            try:
                with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
                    conn.execute(
                        sa.text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = :name"
                        ),
                        {"name": name},
                    )
                r = httpx.get(srv.url + "/readyz", timeout=30)
                assert r.status_code == 503
                (reason,) = r.json()["reasons"]
                assert reason.startswith("database unreachable")
                assert httpx.get(srv.url + "/healthz").status_code == 200  # alive all along
            finally:
                with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
                admin.dispose()
            deadline = time.monotonic() + 10
            while httpx.get(srv.url + "/readyz").status_code != 200:
                assert time.monotonic() < deadline, "not ready again after the database returned"
                time.sleep(0.2)
            assert json.loads(httpx.get(srv.url + "/readyz").text)["status"] == "ready"


def test_a_killed_supervisor_takes_its_servers_and_a_restart_serves(tmp_path: Path) -> None:
    with TidegateServer(tmp_path / "data", args=["--workers", "2"]) as srv:
        assert srv.proc is not None
        children = _children(srv.proc.pid)
        assert len(children) == 2
        srv.kill9()
        deadline = time.monotonic() + 10
        while any(Path(f"/proc/{pid}").exists() for pid in children):
            assert time.monotonic() < deadline, "server processes outlived their supervisor"
            time.sleep(0.1)
        srv.start()  # same port: nothing of the killed group holds it
        assert httpx.get(srv.url + "/readyz").json() == {"status": "ready"}
        metrics = sorted(p.name for p in (srv.data_dir / "metrics").iterdir())
        assert len(metrics) == 1, metrics  # the killed supervisor's directory was swept
