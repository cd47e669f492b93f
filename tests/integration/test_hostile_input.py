"""Hostile request input against a real server: an error in the API's vocabulary, never a 500.

Each case is a row of issue 17's table: deep JSON, out-of-range integers, non-ASCII digits,
a descriptor whose size disagrees with the blob, and an image config nested too deep to scan.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from tests.integration.conftest import error_code, image_manifest, push_blob, put_manifest, sha256
from tests.support.server import TidegateServer

pytestmark = [pytest.mark.integration]

DEEP = b"[" * 100_000 + b"]" * 100_000
"""Nested far past any parser's stack: Python's json raises RecursionError on it."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TidegateServer]:
    data = tmp_path_factory.mktemp("hostile") / "data"
    env = {"TIDEGATE_ANONYMOUS_ACCESS": "push", "TIDEGATE_API_ANONYMOUS_ACCESS": "true"}
    with TidegateServer(data, env=env) as srv:
        yield srv


@pytest.fixture
def v2(server: TidegateServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60.0) as client:
        yield client


def test_deep_manifest_is_manifest_invalid(v2: httpx.Client) -> None:
    r = put_manifest(v2, "hostile/deep", "v1", DEEP)
    assert (r.status_code, error_code(r)) == (400, "MANIFEST_INVALID")
    assert "deeper than" in r.text
    assert v2.get("/v2/").status_code == 200  # the server and the connection still serve


def test_huge_layer_size_is_manifest_invalid(v2: httpx.Client) -> None:
    layer = b"a layer"
    doc = json.loads(image_manifest(v2, "hostile/size", [layer]))
    for size in (2**70, 2**64 - 1, -1):
        doc["layers"][0]["size"] = size
        r = put_manifest(v2, "hostile/size", "v1", json.dumps(doc).encode())
        assert (r.status_code, error_code(r)) == (400, "MANIFEST_INVALID"), size


def test_descriptor_size_must_match_the_blob(v2: httpx.Client) -> None:
    layer = b"twelve bytes"
    doc = json.loads(image_manifest(v2, "hostile/lie", [layer]))
    doc["layers"][0]["size"] = len(layer) + 1
    r = put_manifest(v2, "hostile/lie", "v1", json.dumps(doc).encode())
    assert (r.status_code, error_code(r)) == (400, "MANIFEST_INVALID")
    assert sha256(layer) in r.text
    doc["layers"][0]["size"] = len(layer)
    assert put_manifest(v2, "hostile/lie", "v1", json.dumps(doc).encode()).status_code == 201


@pytest.mark.parametrize(
    "path",
    [
        "/v2/hostile/lie/tags/list?n=%C2%B2",
        "/v2/_catalog?n=%C2%B2",
        "/v2/_catalog?n=99999999999999999999999",
    ],
)
def test_non_ascii_page_sizes_on_v2(v2: httpx.Client, path: str) -> None:
    r = v2.get(path)
    assert r.status_code == 400
    assert error_code(r) in ("UNSUPPORTED", "PAGINATION_NUMBER_INVALID")


@pytest.mark.parametrize("limit", ["%C2%B2", "-1", "0", "ten"])
def test_bad_api_limit(server: TidegateServer, limit: str) -> None:
    r = httpx.get(f"{server.url}/api/findings?limit={limit}")
    assert r.status_code == 400
    assert "limit" in r.json()["error"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/api/nope", 404), ("DELETE", "/api/findings", 405), ("POST", "/api/", 404)],
)
def test_unknown_api_routes_answer_json(
    server: TidegateServer, method: str, path: str, status: int
) -> None:
    r = httpx.request(method, f"{server.url}{path}")
    assert r.status_code == status
    assert r.headers["content-type"] == "application/json"
    assert r.json()["error"]


def test_deep_ecr_body_is_invalid_parameter(server: TidegateServer) -> None:
    # Signed by hand: boto3 serializes only bodies its model allows.
    body = b'{"repositoryName": ' + DEEP + b"}"
    key_id, secret = server.access_key()
    raw = AWSRequest(
        method="POST",
        url=server.url + "/",
        data=body,
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories",
        },
    )
    SigV4Auth(Credentials(key_id, secret), "ecr", "us-east-1").add_auth(raw)
    r = httpx.post(server.url + "/", content=body, headers=dict(raw.headers.items()))
    assert r.status_code == 400
    assert r.json()["__type"] == "InvalidParameterException"


def test_deep_image_config_fails_the_scan_with_a_reason(
    server: TidegateServer, v2: httpx.Client
) -> None:
    key_id, secret = server.access_key()
    ecr: Any = boto3.client(
        "ecr", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id=key_id, aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )  # fmt: skip
    ecr.create_repository(
        repositoryName="hostile/config", imageScanningConfiguration={"scanOnPush": True}
    )
    push_blob(v2, "hostile/config", DEEP)
    body = image_manifest(v2, "hostile/config", [b"a layer"], config=DEEP)
    assert put_manifest(v2, "hostile/config", "v1", body).status_code == 201
    deadline = time.monotonic() + 90
    while True:
        out = ecr.describe_image_scan_findings(
            repositoryName="hostile/config", imageId={"imageTag": "v1"}
        )
        status = out["imageScanStatus"]
        if status["status"] not in ("PENDING", "IN_PROGRESS"):
            break
        assert time.monotonic() < deadline, status
        time.sleep(0.3)
    assert status["status"] == "FAILED"
    assert "deeper than" in status["description"]
    # A failed scan does not use up the one-scan-per-24-h quota: it can be started again.
    again = ecr.start_image_scan(repositoryName="hostile/config", imageId={"imageTag": "v1"})
    assert again["imageScanStatus"]["status"] == "PENDING"
