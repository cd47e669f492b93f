"""The audit trail against a real server: boto3 (ECR, Inspector2) and `/v2/` requests as two
principals,
read back with the real `tidegate audit` CLI (table and JSON, every filter) and found in the
server's structured log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import image_manifest, put_manifest
from tests.support.server import TidegateServer

pytestmark = [pytest.mark.integration]

REGISTRY_ID = "123456789012"
REPO_ARN = f"arn:aws:ecr:us-east-1:{REGISTRY_ID}:repository/audit/app"


def tidegate(*argv: str) -> str:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    run = subprocess.run(
        [sys.executable, "-m", "tidegate", *argv],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    return run.stdout


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TidegateServer]:
    data = tmp_path_factory.mktemp("audit") / "data"
    with TidegateServer(
        data, env={"TIDEGATE_REGISTRY_ID": REGISTRY_ID, "TIDEGATE_LOG_FORMAT": "json"}
    ) as srv:
        yield srv


def audit(server: TidegateServer, *filters: str) -> list[dict[str, Any]]:
    out = tidegate("audit", "--data-dir", str(server.data_dir), "--json", *filters)
    events: list[dict[str, Any]] = json.loads(out)
    return events


@pytest.fixture(scope="module")
def traffic(server: TidegateServer) -> dict[str, str]:
    """Requests of every kind; returns the key ids used."""
    admin_id, admin_secret = server.access_key()
    data = str(server.data_dir)
    tidegate("users", "create", "--data-dir", data, "ci")
    tidegate(
        "users", "attach-policy", "--data-dir", data, "ci", "AmazonEC2ContainerRegistryPowerUser"
    )
    ci = tidegate("keys", "create", "--data-dir", data, "--user", "ci")
    ci_id = ci.split("aws_access_key_id = ")[1].split()[0]
    ci_secret = ci.split("aws_secret_access_key = ")[1].split()[0]
    ecr = server.ecr()
    ecr.create_repository(repositoryName="audit/app")
    ecr.describe_repositories()  # a read: not recorded
    with pytest.raises(ClientError):
        ecr.create_repository(repositoryName="audit/app")  # failed, still recorded
    with pytest.raises(ClientError):
        server.ecr(("AKIANOTAKEY000000000", "wrong")).delete_repository(repositoryName="x/y")
    with httpx.Client(base_url=server.url, auth=(ci_id, ci_secret), timeout=30) as v2:
        body = image_manifest(v2, "audit/app", [b"audited layer"])
        assert put_manifest(v2, "audit/app", "v1", body).status_code == 201
        assert v2.get("/v2/audit/app/manifests/v1").status_code == 200  # a read
    assert httpx.get(f"{server.url}/v2/").status_code == 401  # the challenge: not recorded
    r = httpx.get(f"{server.url}/v2/audit/app/tags/list", auth=(ci_id, "not the secret"))
    assert r.status_code == 401
    return {"admin": admin_id, "ci": ci_id, "admin_secret": admin_secret}


def test_every_mutation_and_refusal_is_recorded(
    server: TidegateServer, traffic: dict[str, str]
) -> None:
    events = audit(server)
    actions = [(e["interface"], e["action"], e["result"]) for e in reversed(events)]
    assert ("ecr", "ecr:CreateRepository", "allowed") in actions
    assert ("ecr", "ecr:CreateRepository", "failed") in actions
    assert ("ecr", "ecr:DeleteRepository", "denied") in actions
    assert ("v2", "ecr:InitiateLayerUpload", "allowed") in actions
    assert ("v2", "ecr:PutImage", "allowed") in actions
    assert ("v2", "ecr:ListImages", "denied") in actions
    assert not any(a[1] in ("ecr:DescribeRepositories", "ecr:BatchGetImage") for a in actions)
    assert not any(a[1] == "ecr:GetAuthorizationToken" for a in actions)  # the bare challenge

    created = next(e for e in events if e["action"] == "ecr:CreateRepository")
    assert created["principal"] == f"arn:aws:iam::{REGISTRY_ID}:user/admin"
    assert created["access_key_id"] == traffic["admin"]
    assert created["resource"] == REPO_ARN
    assert created["source_ip"] == "127.0.0.1"
    assert created["time"].endswith("Z")
    exists = next(e for e in events if e["result"] == "failed")
    assert exists["error"] == "RepositoryAlreadyExistsException"
    bad_key = next(e for e in events if e["action"] == "ecr:DeleteRepository")
    assert bad_key["access_key_id"] == "AKIANOTAKEY000000000"
    assert bad_key["principal"] is None  # no such key, so no principal
    assert bad_key["error"] == "UnrecognizedClientException"
    put = next(e for e in events if e["action"] == "ecr:PutImage")
    assert put["principal"] == f"arn:aws:iam::{REGISTRY_ID}:user/ci"
    assert put["resource"] == REPO_ARN
    wrong = next(e for e in events if e["action"] == "ecr:ListImages")
    assert (wrong["access_key_id"], wrong["error"]) == (traffic["ci"], "UNAUTHORIZED")


def test_filters_and_table(server: TidegateServer, traffic: dict[str, str]) -> None:
    ci = audit(server, "--principal", "ci")
    assert ci
    assert all(e["access_key_id"] == traffic["ci"] for e in ci)
    assert audit(server, "--principal", traffic["ci"]) == ci
    assert audit(server, "--principal", f"arn:aws:iam::{REGISTRY_ID}:user/ci") == [
        e for e in ci if e["principal"]
    ]
    denied = audit(server, "--result", "denied")
    assert {e["action"] for e in denied} == {"ecr:DeleteRepository", "ecr:ListImages"}
    assert [e["action"] for e in audit(server, "--action", "ecr:Create*")] == [
        "ecr:CreateRepository", "ecr:CreateRepository"
    ]  # fmt: skip
    assert len(audit(server, "--limit", "1")) == 1
    assert len(audit(server, "--since", "1h")) == len(audit(server))
    assert audit(server, "--since", "2999-01-01T00:00:00") == []
    table = tidegate("audit", "--data-dir", str(server.data_dir), "--result", "denied")
    lines = table.splitlines()
    assert lines[0].split()[:4] == ["TIME", "RESULT", "ACTION", "PRINCIPAL"]
    assert len(lines) == 3
    assert "UnrecognizedClientException" in table
    bad = subprocess.run(
        [sys.executable, "-m", "tidegate", "audit", "--data-dir", str(server.data_dir),
         "--since", "yesterday-ish"],
        capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)),
    )  # fmt: skip
    assert bad.returncode == 2
    assert "--since" in bad.stderr


def test_structured_log_lines(server: TidegateServer, traffic: dict[str, str]) -> None:
    records = []
    for line in server.log_path.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("msg") == "audit" and entry.get("logger") == "tidegate.audit":
            records.append(entry)
    assert len(records) == len(audit(server, "--limit", "1000"))
    assert any(
        r["action"] == "ecr:PutImage" and r["access_key_id"] == traffic["ci"] for r in records
    )


def test_inspector_calls_are_audited(server: TidegateServer, traffic: dict[str, str]) -> None:
    # After the ECR tests, whose exact counts of denials this would change.
    inspector = server.inspector2()
    criteria = {"vulnerabilityId": [{"comparison": "EQUALS", "value": "CVE-2021-44228"}]}
    arn = inspector.create_filter(name="audit-rule", action="NONE", filterCriteria=criteria)["arn"]
    inspector.tag_resource(resourceArn=arn, tags={"team": "sec"})  # the ARN is in the path
    inspector.list_tags_for_resource(resourceArn=arn)  # reads: not recorded
    inspector.list_findings()
    inspector.delete_filter(arn=arn)
    wrong = server.inspector2((traffic["admin"], "not the secret"))
    with pytest.raises(ClientError) as info:
        wrong.list_filters()
    assert info.value.response["Error"]["Code"] == "InvalidSignatureException"

    events = audit(server, "--interface", "inspector2")
    rows = [(e["action"], e["result"], e["resource"]) for e in reversed(events)]
    assert rows == [
        ("inspector2:CreateFilter", "allowed", None),
        ("inspector2:TagResource", "allowed", arn),
        ("inspector2:DeleteFilter", "allowed", arn),
        ("inspector2:ListFilters", "denied", None),
    ]
    created, _, deleted, denied = reversed(events)
    assert created["principal"] == f"arn:aws:iam::{REGISTRY_ID}:user/admin"
    assert (deleted["access_key_id"], deleted["source_ip"]) == (traffic["admin"], "127.0.0.1")
    assert (denied["access_key_id"], denied["error"]) == (traffic["admin"],
                                                          "InvalidSignatureException")  # fmt: skip
    assert audit(server, "--action", "inspector2:*") == events
    assert all(e["interface"] != "inspector2" for e in audit(server, "--interface", "ecr"))
