"""Failed sign-ins are limited per key and per address with backoff, against a real server:
boto3 meets ThrottlingException, `/v2/` clients 429 TOOMANYREQUESTS, until the backoff ends."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.support.server import TidegateServer

pytestmark = [pytest.mark.integration]

LIMITS = {
    "TIDEGATE_SIGNIN_MAX_FAILURES": "3",
    "TIDEGATE_SIGNIN_MAX_FAILURES_PER_ADDRESS": "5",
    "TIDEGATE_SIGNIN_WINDOW_SECONDS": "60",
    "TIDEGATE_SIGNIN_BACKOFF_SECONDS": "2",
    "TIDEGATE_SIGNIN_BACKOFF_MAX_SECONDS": "8",
}


@pytest.fixture
def server(tmp_path: Any) -> Iterator[TidegateServer]:
    with TidegateServer(tmp_path / "data", env=LIMITS) as srv:
        yield srv


def code_of(info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(info.value.response["Error"]["Code"])


def test_ecr_wrong_secret_backs_off_then_recovers(server: TidegateServer) -> None:
    key_id, _ = server.access_key()
    wrong = server.ecr((key_id, "x" * 40))
    for _ in range(3):
        with pytest.raises(ClientError) as info:
            wrong.describe_repositories()
        assert code_of(info) == "InvalidSignatureException"
    # Now even the right secret is refused until the backoff expires.
    with pytest.raises(ClientError) as info:
        server.ecr().describe_repositories()
    assert code_of(info) == "ThrottlingException"
    assert info.value.response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] in ("1", "2")
    time.sleep(2.2)
    assert server.ecr().describe_repositories()["repositories"] == []
    # The good sign-in cleared the key's count, not the address's: two failures more from
    # it, with made-up key ids, reach the address limit, and the right key is refused again.
    for fake in ("AKIAFAKE000000000001", "AKIAFAKE000000000002"):
        with pytest.raises(ClientError) as info:
            server.ecr((fake, "x" * 40)).describe_repositories()
        assert code_of(info) == "UnrecognizedClientException"
    with pytest.raises(ClientError) as info:
        server.ecr().describe_repositories()
    assert code_of(info) == "ThrottlingException"
    time.sleep(2.2)
    # Each further failure doubles the address's backoff.
    with pytest.raises(ClientError) as info:
        server.ecr(("AKIAFAKE000000000003", "x" * 40)).describe_repositories()
    assert code_of(info) == "UnrecognizedClientException"
    with pytest.raises(ClientError) as info:
        server.ecr().describe_repositories()
    assert code_of(info) == "ThrottlingException"
    assert int(info.value.response["ResponseMetadata"]["HTTPHeaders"]["retry-after"]) in (3, 4)


def test_inspector_wrong_secret_is_throttled_with_429(server: TidegateServer) -> None:
    key_id, _ = server.access_key()
    wrong = server.inspector2((key_id, "x" * 40))
    for _ in range(3):
        with pytest.raises(ClientError) as info:
            wrong.list_filters()
        assert code_of(info) == "InvalidSignatureException"
    with pytest.raises(ClientError) as info:
        server.inspector2().list_filters()
    assert code_of(info) == "ThrottlingException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert info.value.response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] in ("1", "2")
    time.sleep(2.2)
    assert server.inspector2().list_filters()["filters"] == []


def test_v2_wrong_password_gets_429_then_recovers(server: TidegateServer) -> None:
    key_id, secret = server.access_key()
    for _ in range(3):
        r = httpx.get(f"{server.url}/v2/_catalog", auth=(key_id, "not-the-secret"))
        assert r.status_code == 401
    r = httpx.get(f"{server.url}/v2/_catalog", auth=(key_id, secret))
    assert r.status_code == 429
    assert r.json()["errors"][0]["code"] == "TOOMANYREQUESTS"
    assert int(r.headers["Retry-After"]) >= 1
    # A credential-less request is no sign-in: the address's backoff does not apply to it.
    assert httpx.get(f"{server.url}/v2/").status_code == 401
    time.sleep(2.2)
    assert httpx.get(f"{server.url}/v2/_catalog", auth=(key_id, secret)).status_code == 200


def test_refusals_are_audited(server: TidegateServer) -> None:
    key_id, _ = server.access_key()
    for _ in range(4):
        httpx.get(f"{server.url}/v2/_catalog", auth=(key_id, "wrong"))
    out = subprocess.run(
        [sys.executable, "-m", "tidegate", "audit", "--data-dir", str(server.data_dir),
         "--result", "denied", "--json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    errors = [e["error"] for e in json.loads(out.stdout)]
    assert errors == ["TOOMANYREQUESTS", "UNAUTHORIZED", "UNAUTHORIZED", "UNAUTHORIZED"]
