"""boto3 against a real `tidegate serve`: every ECR operation, error paths and pagination."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import OCI_MANIFEST, image_manifest, put_manifest, sha256
from tests.support.server import TidegateServer

pytestmark = [pytest.mark.integration]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TidegateServer]:
    data = tmp_path_factory.mktemp("ecr") / "data"
    with TidegateServer(data, env={"TIDEGATE_REGISTRY_ID": "123456789012"}) as srv:
        yield srv


@pytest.fixture(scope="module")
def ecr(server: TidegateServer) -> Any:
    return server.ecr()


@pytest.fixture(scope="module")
def v2(server: TidegateServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, auth=server.access_key(), timeout=30) as client:
        yield client


def rule(frequency: str, pattern: str) -> dict[str, Any]:
    filters = [{"filter": pattern, "filterType": "WILDCARD"}]
    return {"scanFrequency": frequency, "repositoryFilters": filters}


def code_of(info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(info.value.response["Error"]["Code"])


def push(v2: httpx.Client, name: str, tag: str, layer: bytes) -> tuple[str, bytes]:
    body = image_manifest(v2, name, [layer])
    r = put_manifest(v2, name, tag, body)
    assert r.status_code == 201, r.text
    return sha256(body), body


def test_repository_lifecycle(ecr: Any, v2: httpx.Client) -> None:
    repo = ecr.create_repository(
        repositoryName="team/life",
        imageScanningConfiguration={"scanOnPush": True},
        imageTagMutability="MUTABLE",
        tags=[{"Key": "env", "Value": "test"}],
    )["repository"]
    assert repo["repositoryArn"] == "arn:aws:ecr:us-east-1:123456789012:repository/team/life"
    assert repo["registryId"] == "123456789012"
    assert repo["repositoryUri"].endswith(":" + v2.base_url.port.__str__() + "/team/life")
    assert repo["imageScanningConfiguration"] == {"scanOnPush": True}
    assert "imageTagMutabilityExclusionFilters" not in repo
    with pytest.raises(ClientError) as info:
        ecr.create_repository(repositoryName="team/life")
    assert code_of(info) == "RepositoryAlreadyExistsException"
    with pytest.raises(ecr.exceptions.RepositoryNotFoundException):
        ecr.describe_repositories(repositoryNames=["team/life", "team/absent"])
    found = ecr.describe_repositories(repositoryNames=["team/life"])["repositories"]
    assert [r["repositoryName"] for r in found] == ["team/life"]
    push(v2, "team/life", "v1", b"layer-life")
    with pytest.raises(ecr.exceptions.RepositoryNotEmptyException):
        ecr.delete_repository(repositoryName="team/life")
    deleted = ecr.delete_repository(repositoryName="team/life", force=True)["repository"]
    assert deleted["repositoryName"] == "team/life"
    with pytest.raises(ecr.exceptions.RepositoryNotFoundException):
        ecr.delete_repository(repositoryName="team/life")
    assert v2.get("/v2/team/life/tags/list").status_code == 404


def test_validation_errors(ecr: Any) -> None:
    with pytest.raises(ecr.exceptions.InvalidParameterException) as info:
        ecr.create_repository(repositoryName="Bad_Name")
    assert "regular expression" in str(info.value)
    with pytest.raises(ecr.exceptions.InvalidParameterException):
        ecr.create_repository(repositoryName="ok-name", imageTagMutability="SOMETIMES")
    with pytest.raises(ecr.exceptions.InvalidParameterException):
        ecr.describe_repositories(maxResults=1001)
    with pytest.raises(ecr.exceptions.InvalidParameterException):
        ecr.describe_repositories(nextToken="not-a-token")
    with pytest.raises(ecr.exceptions.InvalidParameterException):
        ecr.create_repository(
            repositoryName="excl", imageTagMutability="IMMUTABLE",
            imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "x*"}],
        )  # fmt: skip
    with pytest.raises(ecr.exceptions.InvalidParameterException):
        ecr.describe_repositories(registryId="999999999999")


def test_pagination(ecr: Any, v2: httpx.Client) -> None:
    for i in range(5):
        ecr.create_repository(repositoryName=f"page/r{i}")
    pages = list(
        ecr.get_paginator("describe_repositories").paginate(PaginationConfig={"PageSize": 2})
    )
    names = [r["repositoryName"] for p in pages for r in p["repositories"]]
    assert [n for n in names if n.startswith("page/")] == [f"page/r{i}" for i in range(5)]
    assert all(p.get("nextToken", "x") != "" for p in pages)
    assert "nextToken" not in pages[-1]
    first = ecr.describe_repositories(maxResults=1)
    assert len(first["repositories"]) == 1
    assert first["nextToken"]
    for i in range(3):
        push(v2, "page/r0", f"t{i}", f"layer-{i}".encode())
    ids = [
        i
        for p in ecr.get_paginator("list_images").paginate(
            repositoryName="page/r0", PaginationConfig={"PageSize": 1}
        )
        for i in p["imageIds"]
    ]
    assert sorted(i["imageTag"] for i in ids) == ["t0", "t1", "t2"]
    details = [
        d
        for p in ecr.get_paginator("describe_images").paginate(
            repositoryName="page/r0", PaginationConfig={"PageSize": 2}
        )
        for d in p["imageDetails"]
    ]
    assert len(details) == 3
    with pytest.raises(ecr.exceptions.InvalidParameterException):
        ecr.list_images(repositoryName="page/r0", maxResults=1001)


def test_images(ecr: Any, v2: httpx.Client) -> None:
    ecr.create_repository(repositoryName="img")
    before = time.time()
    digest, body = push(v2, "img", "v1", b"layer-img-1")
    v2.put("/v2/img/manifests/v1-alias", content=body, headers={"Content-Type": OCI_MANIFEST})
    other, other_body = push(v2, "img", "v2", b"layer-img-2")
    # Moving v2 to the first image leaves the second untagged.
    put_manifest(v2, "img", "v2", body)
    tagged = ecr.list_images(repositoryName="img", filter={"tagStatus": "TAGGED"})["imageIds"]
    assert sorted(i["imageTag"] for i in tagged) == ["v1", "v1-alias", "v2"]
    untagged = ecr.list_images(repositoryName="img", filter={"tagStatus": "UNTAGGED"})["imageIds"]
    assert untagged == [{"imageDigest": other}]
    detail = ecr.describe_images(repositoryName="img", imageIds=[{"imageTag": "v1"}])
    (d,) = detail["imageDetails"]
    assert d["imageDigest"] == digest
    assert sorted(d["imageTags"]) == ["v1", "v1-alias", "v2"]
    manifest = json.loads(body)
    assert d["imageSizeInBytes"] == manifest["config"]["size"] + manifest["layers"][0]["size"]
    assert before - 1 <= d["imagePushedAt"].timestamp() <= time.time() + 1
    assert d["imageManifestMediaType"] == OCI_MANIFEST
    assert d["artifactMediaType"] == "application/vnd.oci.image.config.v1+json"
    assert "lastRecordedPullTime" not in d
    assert "imageScanStatus" not in d
    with pytest.raises(ecr.exceptions.ImageNotFoundException):
        ecr.describe_images(repositoryName="img", imageIds=[{"imageTag": "nope"}])
    got = ecr.batch_get_image(
        repositoryName="img", imageIds=[{"imageTag": "v1"}, {"imageTag": "nope"}, {}]
    )
    assert got["images"][0]["imageManifest"] == body.decode()
    assert got["images"][0]["imageId"] == {"imageDigest": digest, "imageTag": "v1"}
    assert sorted(f["failureCode"] for f in got["failures"]) == [
        "ImageNotFound",
        "MissingDigestAndTag",
    ]
    pulled = ecr.describe_images(repositoryName="img", imageIds=[{"imageDigest": digest}])
    assert "lastRecordedPullTime" in pulled["imageDetails"][0]
    # PutImage: a new tag on an existing manifest, then the same again.
    put = ecr.put_image(repositoryName="img", imageManifest=other_body.decode(), imageTag="v3")
    assert put["image"]["imageId"] == {"imageDigest": other, "imageTag": "v3"}
    with pytest.raises(ecr.exceptions.ImageAlreadyExistsException):
        ecr.put_image(repositoryName="img", imageManifest=other_body.decode(), imageTag="v3")
    with pytest.raises(ecr.exceptions.ImageDigestDoesNotMatchException):
        ecr.put_image(
            repositoryName="img", imageManifest=other_body.decode(), imageTag="v4",
            imageDigest="sha256:" + "0" * 64,
        )  # fmt: skip
    missing = json.dumps(
        {**manifest, "layers": [{**manifest["layers"][0], "digest": "sha256:" + "1" * 64}]}
    )
    with pytest.raises(ecr.exceptions.LayersNotFoundException):
        ecr.put_image(repositoryName="img", imageManifest=missing, imageTag="v5")
    with pytest.raises(ecr.exceptions.RepositoryNotFoundException):
        ecr.put_image(repositoryName="img-absent", imageManifest=body.decode())
    # BatchDeleteImage: a tag alone, then the last tag takes the image.
    gone = ecr.batch_delete_image(
        repositoryName="img", imageIds=[{"imageTag": "v1-alias"}, {"imageTag": "zzz"}]
    )
    assert gone["imageIds"] == [{"imageDigest": digest, "imageTag": "v1-alias"}]
    assert gone["failures"][0]["failureCode"] == "ImageNotFound"
    ecr.batch_delete_image(repositoryName="img", imageIds=[{"imageTag": "v3"}])
    remaining = ecr.list_images(repositoryName="img")["imageIds"]
    assert other not in {i["imageDigest"] for i in remaining}
    ecr.batch_delete_image(repositoryName="img", imageIds=[{"imageDigest": digest}])
    assert ecr.list_images(repositoryName="img")["imageIds"] == []


def test_immutable_tags_on_both_apis(ecr: Any, v2: httpx.Client) -> None:
    ecr.create_repository(repositoryName="frozen")
    _digest, _body = push(v2, "frozen", "v1", b"frozen-1")
    out = ecr.put_image_tag_mutability(repositoryName="frozen", imageTagMutability="IMMUTABLE")
    assert out["imageTagMutability"] == "IMMUTABLE"
    other = image_manifest(v2, "frozen", [b"frozen-2"])
    r = put_manifest(v2, "frozen", "v1", other)
    assert r.status_code == 400
    assert r.json()["errors"][0]["code"] == "TAG_INVALID"
    with pytest.raises(ecr.exceptions.ImageTagAlreadyExistsException):
        ecr.put_image(repositoryName="frozen", imageManifest=other.decode(), imageTag="v1")
    ecr.put_image_tag_mutability(
        repositoryName="frozen", imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "latest*"}],
    )  # fmt: skip
    push(v2, "frozen", "latest", b"frozen-3")
    assert put_manifest(v2, "frozen", "latest", other).status_code == 201
    desc = ecr.describe_repositories(repositoryNames=["frozen"])["repositories"][0]
    assert desc["imageTagMutabilityExclusionFilters"] == [
        {"filterType": "WILDCARD", "filter": "latest*"}
    ]


def wait_scan(ecr: Any, repository: str, digest: str, timeout: float = 60) -> dict[str, Any]:
    """DescribeImageScanFindings once the scan has left PENDING/IN_PROGRESS."""
    deadline = time.monotonic() + timeout
    while True:
        out: dict[str, Any] = ecr.describe_image_scan_findings(
            repositoryName=repository, imageId={"imageDigest": digest}
        )
        if out["imageScanStatus"]["status"] not in ("PENDING", "IN_PROGRESS"):
            return out
        assert time.monotonic() < deadline, out["imageScanStatus"]
        time.sleep(0.2)


ARN_PREFIX = "arn:aws:ecr:us-east-1:123456789012:repository/"


def _scan_resource_changes(server: TidegateServer, timeout: float = 15) -> list[dict[str, Any]]:
    """The repositories of every `ECR Scan Resource Change` in the event log, once one is."""
    path = server.data_dir / "events" / "events.jsonl"
    deadline = time.monotonic() + timeout
    while True:
        lines = path.read_text().splitlines() if path.exists() else []
        events = [
            e for e in map(json.loads, lines) if e["detail-type"] == "ECR Scan Resource Change"
        ]
        if events or time.monotonic() > deadline:
            return [r for e in events for r in e["detail"]["repositories"]]
        time.sleep(0.05)


def test_scanning_configuration_and_status(
    ecr: Any, v2: httpx.Client, server: TidegateServer
) -> None:
    assert ecr.get_registry_scanning_configuration()["scanningConfiguration"] == {
        "scanType": "BASIC",
        "rules": [],
    }
    ecr.create_repository(repositoryName="scan/app")
    digest, _ = push(v2, "scan/app", "v1", b"scan-1")
    with pytest.raises(ecr.exceptions.ScanNotFoundException):
        ecr.describe_image_scan_findings(repositoryName="scan/app", imageId={"imageTag": "v1"})
    started = ecr.start_image_scan(repositoryName="scan/app", imageId={"imageTag": "v1"})
    assert started["imageScanStatus"]["status"] == "PENDING"
    assert started["imageId"] == {"imageDigest": digest, "imageTag": "v1"}
    # The layer is not a tar archive: the scan runs and fails with a reason, no findings.
    findings = wait_scan(ecr, "scan/app", digest)
    assert findings["imageScanStatus"]["status"] == "FAILED"
    assert findings["imageScanStatus"]["description"]
    assert findings["imageScanFindings"]["findings"] == []
    # A failed scan does not use the 24 h quota (a completed one does: test_basic_scan_debian).
    again = ecr.start_image_scan(repositoryName="scan/app", imageId={"imageDigest": digest})
    assert again["imageScanStatus"]["status"] == "PENDING"
    wait_scan(ecr, "scan/app", digest)
    with pytest.raises(ecr.exceptions.ImageNotFoundException):
        ecr.start_image_scan(repositoryName="scan/app", imageId={"imageTag": "nope"})
    out = ecr.put_image_scanning_configuration(
        repositoryName="scan/app", imageScanningConfiguration={"scanOnPush": True}
    )
    assert out["imageScanningConfiguration"] == {"scanOnPush": True}
    ecr.put_registry_scanning_configuration(
        scanType="ENHANCED",
        rules=[rule("SCAN_ON_PUSH", "*"), rule("CONTINUOUS_SCAN", "app")],
    )
    configs = ecr.batch_get_repository_scanning_configuration(
        repositoryNames=["scan/app", "scan/absent"]
    )
    (config,) = configs["scanningConfigurations"]
    assert config["scanFrequency"] == "CONTINUOUS_SCAN"
    # The move from scan on push (BASIC, scanOnPush) to continuous is an event.
    assert {
        "repository-name": "scan/app", "repository-arn": f"{ARN_PREFIX}scan/app",
        "scan-frequency": "CONTINUOUS_SCAN", "previous-scan-frequency": "SCAN_ON_PUSH",
    } in _scan_resource_changes(server)  # fmt: skip
    assert config["appliedScanFilters"] == [{"filter": "app", "filterType": "WILDCARD"}]
    assert configs["failures"][0]["failureCode"] == "REPOSITORY_NOT_FOUND"
    with pytest.raises(ecr.exceptions.ValidationException):
        ecr.start_image_scan(repositoryName="scan/app", imageId={"imageTag": "v1"})
    # A push now queues an enhanced scan of the new image, which runs on its own.
    pushed, _ = push(v2, "scan/app", "v2", b"scan-2")
    (d,) = ecr.describe_images(repositoryName="scan/app", imageIds=[{"imageDigest": pushed}])[
        "imageDetails"
    ]
    assert d["imageScanStatus"]["status"] in ("PENDING", "IN_PROGRESS", "FAILED")
    assert wait_scan(ecr, "scan/app", pushed)["imageScanStatus"]["status"] == "FAILED"
    with pytest.raises(ecr.exceptions.ValidationException):
        ecr.put_registry_scanning_configuration(
            scanType="BASIC", rules=[rule("CONTINUOUS_SCAN", "a")]
        )
    ecr.put_registry_scanning_configuration(scanType="BASIC", rules=[])


def test_registry_tags_settings_and_tokens(
    ecr: Any, v2: httpx.Client, server: TidegateServer
) -> None:
    assert ecr.describe_registry()["registryId"] == "123456789012"
    arn = ecr.create_repository(repositoryName="tagged")["repository"]["repositoryArn"]
    ecr.tag_resource(resourceArn=arn, tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    ecr.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert ecr.list_tags_for_resource(resourceArn=arn)["tags"] == [{"Key": "b", "Value": "2"}]
    with pytest.raises(ecr.exceptions.TooManyTagsException):
        ecr.tag_resource(resourceArn=arn, tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    with pytest.raises(ecr.exceptions.InvalidTagParameterException):
        ecr.tag_resource(resourceArn=arn, tags=[{"Key": "k" * 129, "Value": "v"}])
    with pytest.raises(ecr.exceptions.InvalidParameterException):
        ecr.list_tags_for_resource(resourceArn="arn:aws:s3:::bucket")
    with pytest.raises(ecr.exceptions.RepositoryNotFoundException):
        ecr.list_tags_for_resource(resourceArn=arn + "-absent")
    assert ecr.get_account_setting(name="BASIC_SCAN_TYPE_VERSION")["value"] == "AWS_NATIVE"
    ecr.put_account_setting(name="BASIC_SCAN_TYPE_VERSION", value="CLAIR")
    assert ecr.get_account_setting(name="BASIC_SCAN_TYPE_VERSION")["value"] == "CLAIR"
    with pytest.raises(ecr.exceptions.ValidationException):
        ecr.put_account_setting(name="BASIC_SCAN_TYPE_VERSION", value="NOPE")
    with pytest.raises(ecr.exceptions.ValidationException):
        ecr.get_account_setting(name="NO_SUCH_SETTING")
    (data,) = ecr.get_authorization_token()["authorizationData"]
    user, password = base64.b64decode(data["authorizationToken"]).decode().split(":")
    assert user == "AWS"
    assert data["proxyEndpoint"] == server.url
    assert 11.9 * 3600 < data["expiresAt"].timestamp() - time.time() <= 12 * 3600
    r = httpx.get(server.url + "/v2/", auth=("AWS", password))
    assert r.status_code == 200
    _digest, body = push(v2, "tagged", "v1", b"layer-tagged")
    layer = json.loads(body)["layers"][0]["digest"]
    url = ecr.get_download_url_for_layer(repositoryName="tagged", layerDigest=layer)
    assert url["downloadUrl"] == f"{server.url}/v2/tagged/blobs/{layer}"
    with pytest.raises(ecr.exceptions.LayersNotFoundException):
        ecr.get_download_url_for_layer(repositoryName="tagged", layerDigest="sha256:" + "2" * 64)
