"""Every console page renders from real rows on both metadata backends (SQLite and
PostgreSQL): findings written as a scan writes them, grouped five ways, summarized on the
dashboard, and paged through."""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from tests.support.postgres import fresh_database
from tests.support.server import TidegateServer
from tidegate import schema as t
from tidegate.db import create_engine

pytestmark = [pytest.mark.integration]

DIGEST = "sha256:" + "ab" * 32
LAYER = "sha256:" + "cd" * 32


def seed(url: str) -> None:
    engine = create_engine(url)
    now = time.time()
    with engine.begin() as conn:
        repo_id = conn.execute(
            sa.insert(t.repositories).values(name="team/app", created_at=now)
        ).inserted_primary_key[0]  # type: ignore[index]
        manifest_id = conn.execute(
            sa.insert(t.manifests).values(
                repository_id=repo_id,
                digest=DIGEST,
                size=10,
                image_size=1234,
                pushed_at=now,
                media_type="application/vnd.oci.image.manifest.v1+json",
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        conn.execute(
            sa.insert(t.tags).values(
                repository_id=repo_id, name="v1", manifest_id=manifest_id, updated_at=now
            )
        )
        conn.execute(
            sa.insert(t.manifest_refs).values(
                manifest_id=manifest_id,
                position=0,
                kind="layer",
                digest=LAYER,
                size=99,
                media_type="application/vnd.oci.image.layer.v1.tar+gzip",
            )
        )
        conn.execute(
            sa.insert(t.image_scans).values(
                repository_id=repo_id,
                digest=DIGEST,
                scan_type="ENHANCED",
                status="ACTIVE",
                description="",
                requested_at=now,
                completed_at=now,
                frequency="CONTINUOUS_SCAN",
                severity_counts=json.dumps({"CRITICAL": 1, "LOW": 1}),
            )
        )
        conn.execute(
            sa.insert(t.finding_details).values(
                id="d1",
                details=json.dumps(
                    {
                        "title": "Bad bug",
                        "vendor_severity": "important",
                        "cvss": [{"type": "CVSS_V3", "score": 9.8, "vector": "CVSS:3.1/AV:N"}],
                    }
                ),
            )
        )
        for i, (vuln, sev, kev) in enumerate(
            (("CVE-2021-0001", "CRITICAL", "YES"), ("CVE-2021-0002", "LOW", "NO"))
        ):
            conn.execute(
                sa.insert(t.findings).values(
                    repository_id=repo_id,
                    digest=DIGEST,
                    scan_type="ENHANCED",
                    finding_key=f"k{i}",
                    vuln_id=vuln,
                    package_name=f"pkg{i}",
                    package_version="1.0",
                    package_manager="OS",
                    namespace="Debian:12",
                    match_name=f"pkg{i}",
                    file_path="var/lib/dpkg/status",
                    layer=LAYER,
                    severity=sev,
                    score=9.8,
                    fixed_in="1.1",
                    fix_available="YES",
                    exploit_available=kev,
                    status="ACTIVE",
                    details_id="d1",
                    first_observed_at=now,
                    last_observed_at=now,
                    updated_at=now,
                )
            )
        # Metering: 12 repositories x 3 months = 36 usage lines, two pages of 25.
        conn.execute(
            sa.insert(t.scan_usage),
            [
                {"repository_name": f"meter/r-{r:02d}", "digest": DIGEST, "kind": kind,
                 "month": month, "scanned_at": now}
                for r in range(12)
                for month, kind, n in (("2026-10", "initial", 1), ("2026-11", "rescan", 2),
                                       ("2026-12", "rescan", 3))
                for _ in range(n)
            ],
        )  # fmt: skip
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[TidegateServer]:  # fmt: skip
    data = tmp_path_factory.mktemp("console-pages") / "data"
    env = {"TIDEGATE_RUN_WORKERS": "false"}
    with contextlib_database(request.param) as url:
        if url:
            env["TIDEGATE_DATABASE_URL"] = url
        with TidegateServer(data, env=env) as srv:
            seed(url or f"sqlite:///{data / 'meta.db'}")
            yield srv


def contextlib_database(kind: str) -> contextlib.AbstractContextManager[str]:
    """A fresh PostgreSQL database's URL, or "" for the data dir's SQLite file."""
    return fresh_database() if kind == "postgres" else contextlib.nullcontext("")


def current(client: httpx.Client, path: str) -> httpx.Response:
    """The page once its registry-wide counts are fresh: a page counted before the seed says
    it is stale or counting and asks to be reloaded, as a browser would (data-reload-after)."""
    deadline = time.monotonic() + 60
    while True:
        got = client.get(path)
        if "data-reload-after" not in got.text or time.monotonic() > deadline:
            return got
        time.sleep(0.5)


def test_every_page_renders_the_seeded_findings(server: TidegateServer) -> None:
    client = httpx.Client(base_url=server.url, timeout=30)
    page = client.get("/console/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    kid, secret = server.access_key()
    client.post("/console/sign-in", data={"csrf_token": token.group(1), "access_key_id": kid,
                                          "secret_access_key": secret})  # fmt: skip
    image = f"/console/repositories/team/app/images/{DIGEST}"
    expected = {
        "/console/dashboard": ["CVE-2021-0001", "Known exploited"],
        "/console/repositories?sort=images&order=desc": ["team/app", "BASIC · MANUAL"],
        "/console/repositories/team/app": ["Active", "v1"],
        image: ["CVE-2021-0001", "important", "9.8", "Bad bug"],
        image + "?severity=LOW&sort=cvss&order=desc": ["CVE-2021-0002"],
        image + f"?layer={LAYER}": ["CVE-2021-0001"],
        "/console/findings?groupBy=vulnerability": ["CVE-2021-0001", "CVE-2021-0002"],
        "/console/findings?groupBy=repository&severity=CRITICAL": ["team/app"],
        "/console/findings?groupBy=image&fixAvailable=YES": ["team/app@sha256:abab"],
        "/console/findings?groupBy=layer": ["sha256:cdcdcdcd"],
        "/console/findings?groupBy=package&q=pkg1": ["pkg1"],
        "/console/settings/scanning": ["team/app"],
        "/console/usage": ["Usage"],
        "/console/events": ["Outbox"],
        "/console/vulndb": ["Vulnerability database"],
    }
    for path, texts in expected.items():
        got = current(client, path)
        assert got.status_code == 200, (path, got.text[-2000:])
        for text in texts:
            assert text in got.text, (path, text)
    assert "CVE-2021-0002" not in client.get("/console/findings?severity=CRITICAL").text
    assert client.get(image + "/export/csv").text.count("CVE-2021-") == 2
    sarif = client.get(image + "/export/sarif").json()
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} == {"CVE-2021-0001", "CVE-2021-0002"}
    usage = client.get("/console/usage").text
    assert "Page 1 of 2" in usage
    assert usage.split("Per month and repository")[1].count("<tr><td>") == 25
    second = client.get("/console/usage?page=2").text.split("Per month and repository")[1]
    assert second.count("<tr><td>2026-12</td>") == 11
    assert "meter/r-00" not in second  # 2026-12's first line ended page 1
    one = client.get("/console/usage?month=2026-11&repository=meter/r-03").text
    lines = one.split("Per month and repository")[1]
    assert lines.count("<tr><td>") == 1
    assert '<td class="num">0</td><td class="num">2</td>' in lines  # no initial, 2 re-scans
    status = client.get(image + "/status.json").json()
    assert status["status"] == "ACTIVE"
    assert status["counts"] == {"CRITICAL": 1, "LOW": 1}


def signed_in(server: TidegateServer) -> tuple[httpx.Client, str]:
    """A client holding an administrator's console session, and its CSRF token."""
    client = httpx.Client(base_url=server.url, timeout=30, follow_redirects=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/sign-in").text)
    assert token is not None
    kid, secret = server.access_key()
    client.post("/console/sign-in", data={"csrf_token": token.group(1), "access_key_id": kid,
                                          "secret_access_key": secret})  # fmt: skip
    listing = client.get("/console/repositories").text
    again = re.search(r'name="csrf_token" value="([^"]+)"', listing)
    assert again is not None
    return client, again.group(1)


def test_repositories_are_searched_created_and_deleted(server: TidegateServer) -> None:
    client, token = signed_in(server)
    made = client.post("/console/repositories", data={"csrf_token": token,
                                                      "repository_name": "team/empty"})  # fmt: skip
    assert made.status_code == 200
    assert "Created repository team/empty" in made.text
    found = client.get("/console/repositories?q=empty").text
    assert "team/empty" in found
    assert "team/app" not in found.split("<tbody>")[1]
    # A repository holding images is not deleted without force, and says why.
    kept = client.post("/console/repositories/team/app/delete", data={"csrf_token": token})
    assert "team/app" in client.get("/console/repositories").text
    assert "contains images" in kept.text or "RepositoryNotEmpty" in kept.text, kept.text[-1500:]
    gone = client.post(f"/console/repositories/team/app/images/{DIGEST}/delete",
                       data={"csrf_token": token})  # fmt: skip
    assert f"Deleted image {DIGEST}" in gone.text
    assert client.get(f"/console/repositories/team/app/images/{DIGEST}").status_code == 404
    dropped = client.post("/console/repositories/team/empty/delete", data={"csrf_token": token})
    assert "Deleted repository team/empty" in dropped.text
    assert client.get("/console/repositories/team/empty").status_code == 404
