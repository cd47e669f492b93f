"""The console's access rules against a real server, over HTTP: the APIs' authorization for
each user, revoked keys and forged cookies, sign-in limits, no open redirect, and a failing
backend shown as a plain error page."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.cli_users import new_user, tidegate
from tests.support.server import TidegateServer

pytestmark = [pytest.mark.integration]

LIMITS = {"TIDEGATE_SIGNIN_MAX_FAILURES": "3", "TIDEGATE_SIGNIN_BACKOFF_SECONDS": "60"}


def csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None, page.text
    return found.group(1)


def signed_in(server: TidegateServer, key: tuple[str, str], next_path: str = "") -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=30)
    token = csrf(client.get("/console/sign-in"))
    done = client.post("/console/sign-in", data={
        "csrf_token": token, "access_key_id": key[0], "secret_access_key": key[1],
        "next": next_path})  # fmt: skip
    assert done.status_code == 303, done.text
    return client


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TidegateServer]:
    data = tmp_path_factory.mktemp("console-access") / "data"
    with TidegateServer(data, env=LIMITS) as srv:
        srv.ecr().create_repository(repositoryName="app")
        yield srv


def test_read_only_user_sees_but_cannot_change(server: TidegateServer) -> None:
    reader = signed_in(server, new_user(server, "reader", "AmazonEC2ContainerRegistryReadOnly"))
    page = reader.get("/console/repositories")
    assert page.status_code == 200
    assert "app" in page.text
    token = csrf(page)
    created = reader.post("/console/repositories",
                          data={"csrf_token": token, "repository_name": "sneaky"})  # fmt: skip
    assert created.status_code == 403
    assert "not authorized to perform: ecr:CreateRepository" in created.text
    deleted = reader.post("/console/repositories/app/delete", data={"csrf_token": token})
    assert deleted.status_code == 403
    saved = reader.post(
        "/console/settings/scanning",
        data={"csrf_token": token, "scan_type": "ENHANCED", "intent": "save"},
    )
    assert saved.status_code == 403
    assert "ecr:PutRegistryScanningConfiguration" in saved.text
    assert server.ecr().describe_repositories()["repositories"][0]["repositoryName"] == "app"


def test_user_without_policies_is_denied_every_page(server: TidegateServer) -> None:
    nobody = signed_in(server, new_user(server, "nobody"))
    for path in ("/console/repositories", "/console/dashboard", "/console/findings",
                 "/console/repositories/app", "/console/settings/scanning"):  # fmt: skip
        page = nobody.get(path)
        assert page.status_code == 403, path
        assert "Access denied" in page.text
        assert "Traceback" not in page.text


def test_revoked_key_and_forged_cookie_end_the_session(server: TidegateServer) -> None:
    key = new_user(server, "leaver", "AmazonEC2ContainerRegistryReadOnly")
    client = signed_in(server, key)
    assert client.get("/console/repositories").status_code == 200
    forged = httpx.Client(base_url=server.url)
    cookie = client.cookies["tidegate_console"]
    forged.cookies.set("tidegate_console", cookie[:-3] + "abc", path="/console")
    assert forged.get("/console/repositories").status_code == 303
    tidegate(server, "keys", "revoke", key[0])
    # The key cache lives up to 2 s; after it, the revoked key's session is gone.
    time.sleep(2.5)
    gone = client.get("/console/repositories")
    assert gone.status_code == 303
    assert gone.headers["location"].startswith("/console/sign-in")


def test_sign_in_failures_are_limited_and_next_stays_in_the_console(
    server: TidegateServer,
) -> None:
    key_id, secret = new_user(server, "guessed", "AmazonEC2ContainerRegistryReadOnly")
    client = httpx.Client(base_url=server.url)
    statuses = []
    for _ in range(4):
        token = csrf(client.get("/console/sign-in"))
        statuses.append(client.post("/console/sign-in", data={
            "csrf_token": token, "access_key_id": key_id, "secret_access_key": "wrong"}
        ).status_code)  # fmt: skip
    assert statuses == [401, 401, 401, 429]
    token = csrf(client.get("/console/sign-in"))
    blocked = client.post(
        "/console/sign-in",
        data={"csrf_token": token, "access_key_id": key_id, "secret_access_key": secret},
    )
    assert blocked.status_code == 429  # even the right secret waits out the backoff
    assert "Too many failed sign-ins" in blocked.text
    fresh = httpx.Client(base_url=server.url)
    token = csrf(fresh.get("/console/sign-in"))
    kid, sec = server.access_key()
    done = fresh.post("/console/sign-in", data={
        "csrf_token": token, "access_key_id": kid, "secret_access_key": sec,
        "next": "//evil.example/x"})  # fmt: skip
    assert done.headers["location"] == "/console/dashboard"
    no_token = fresh.post("/console/sign-in", data={"access_key_id": kid, "secret_access_key": sec})
    assert no_token.status_code == 403


def test_sign_ins_and_sign_outs_are_in_the_audit_trail(server: TidegateServer) -> None:
    key_id, secret = new_user(server, "audited", "AmazonEC2ContainerRegistryReadOnly")
    client = httpx.Client(base_url=server.url)
    token = csrf(client.get("/console/sign-in"))
    wrong = client.post("/console/sign-in", data={
        "csrf_token": token, "access_key_id": key_id, "secret_access_key": "wrong"})  # fmt: skip
    assert wrong.status_code == 401
    signed = signed_in(server, (key_id, secret))
    page = signed.get("/console/repositories")
    assert signed.post("/console/sign-out", data={"csrf_token": csrf(page)}).status_code == 303
    found = json.loads(tidegate(server, "audit", "--principal", key_id, "--json"))
    trail = [(e["action"], e["result"], e["error"], e["interface"]) for e in found]
    assert trail == [  # newest first
        ("console:SignOut", "allowed", None, "console"),
        ("console:SignIn", "allowed", None, "console"),
        ("console:SignIn", "failed", "InvalidCredentials", "console"),
    ]
    assert {e["principal"] for e in found} == {"arn:aws:iam::000000000000:user/audited"}
    assert all(e["source_ip"] == "127.0.0.1" for e in found)
    unknown = httpx.Client(base_url=server.url)
    token = csrf(unknown.get("/console/sign-in"))
    nobody = {"csrf_token": token, "access_key_id": "AKIANOSUCHKEY0000000",
              "secret_access_key": "x"}  # fmt: skip
    assert unknown.post("/console/sign-in", data=nobody).status_code == 401
    failed = json.loads(tidegate(server, "audit", "--action", "console:SignIn",
                                 "--result", "failed", "--json"))  # fmt: skip
    assert failed[0]["access_key_id"] == "AKIANOSUCHKEY0000000"
    assert failed[0]["principal"] is None


def test_failing_backend_is_a_plain_500_page(tmp_path: Path) -> None:
    with TidegateServer(tmp_path / "data") as srv:
        client = signed_in(srv, srv.access_key())
        assert client.get("/console/dashboard").status_code == 200
        with sqlite3.connect(srv.data_dir / "meta.db") as db:
            db.execute("DROP TABLE findings_daily")
        broken = client.get("/console/dashboard")
        assert broken.status_code == 500
        assert "Something went wrong" in broken.text
        assert "findings_daily" not in broken.text
        assert "Traceback" not in broken.text
        assert client.get("/console/repositories").status_code == 200
