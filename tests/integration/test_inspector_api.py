"""The Inspector2 API (`aws inspector2 ...` and boto3) over a real server: images pushed by
skopeo, scanned ENHANCED against hand-written advisories, then listed and filtered."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.support.scan_fixtures import advisory, db_update, mirror, npm_image, skopeo_push
from tests.support.server import TidegateServer

pytestmark = [pytest.mark.integration]

AWS = str(Path(sys.executable).with_name("aws"))
CVES = {"CVE-2020-0001", "CVE-2020-0002", "CVE-2020-0003"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TidegateServer]:
    root = tmp_path_factory.mktemp("inspector")
    records = [
        advisory("GHSA-aaaa-aaaa-aaaa", "CVE-2020-0001", "lodash", "4.17.19"),
        advisory("GHSA-bbbb-bbbb-bbbb", "CVE-2020-0002", "lodash", "4.17.21"),
        advisory("GHSA-cccc-cccc-cccc", "CVE-2020-0003", "minimist", "1.2.6"),
    ]
    db_update(root / "data", mirror(root / "mirror", records))
    npm_image(root / "layout")
    env = {"TIDEGATE_ANONYMOUS_ACCESS": "push", "TIDEGATE_API_ANONYMOUS_ACCESS": "true"}
    with TidegateServer(root / "data", env=env) as srv:
        ecr = srv.ecr()
        rule = {
            "scanFrequency": "SCAN_ON_PUSH",
            "repositoryFilters": [{"filter": "team/*", "filterType": "WILDCARD"}],
        }
        ecr.put_registry_scanning_configuration(scanType="ENHANCED", rules=[rule])
        for name in ("team/web", "team/api"):
            skopeo_push(srv.host, root / "layout", f"{name}:v1")
        deadline = time.monotonic() + 90
        for name in ("team/web", "team/api"):
            while len(_ecr_findings(ecr, name)) < 3:
                assert time.monotonic() < deadline, srv.log()
                time.sleep(0.3)
        yield srv


def _ecr_findings(ecr: Any, repo: str) -> list[dict[str, Any]]:
    try:
        out = ecr.describe_image_scan_findings(repositoryName=repo, imageId={"imageTag": "v1"})
    except ClientError:
        return []
    found: list[dict[str, Any]] = out["imageScanFindings"].get("enhancedFindings", [])
    return found


@pytest.fixture(scope="module")
def inspector(server: TidegateServer) -> Any:
    key_id, secret = server.access_key()
    return boto3.client(
        "inspector2", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id=key_id, aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )  # fmt: skip


def aws(server: TidegateServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_CONFIG_FILE"] = str(server.data_dir.parent / "no-aws-config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(server.data_dir.parent / "none")
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = server.access_key()
    argv = [AWS, "inspector2", *args, "--endpoint-url", server.url, "--output", "json"]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)


def test_cli_lists_and_filters_findings_like_ecr(server: TidegateServer) -> None:
    criteria = {
        "ecrImageRepositoryName": [{"comparison": "EQUALS", "value": "team/web"}],
        "vulnerabilityId": [{"comparison": "PREFIX", "value": "CVE-2020-000"}],
    }
    done = aws(server, "list-findings", "--filter-criteria", json.dumps(criteria))
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)["findings"]
    assert {f["packageVulnerabilityDetails"]["vulnerabilityId"] for f in listed} == CVES
    # The same findings ECR returns: same ARNs, ids, severities, packages.
    ecr = _ecr_findings(server.ecr(), "team/web")
    by_arn = {f["findingArn"]: f for f in ecr}
    assert {f["findingArn"] for f in listed} == set(by_arn)
    for finding in listed:
        twin = by_arn[finding["findingArn"]]
        assert finding["severity"] == twin["severity"]
        assert finding["title"] == twin["title"]
        assert finding["packageVulnerabilityDetails"] == twin["packageVulnerabilityDetails"]
        assert finding["inspectorScore"] == twin["score"]
        container = finding["resources"][0]["details"]["awsEcrContainerImage"]
        assert container["repositoryName"] == "team/web"
        assert container["imageTags"] == ["v1"]


def test_boto3_filters_sort_and_pages(inspector: Any) -> None:
    everything = inspector.list_findings()["findings"]
    assert len(everything) == 6
    minimist = inspector.list_findings(
        filterCriteria={"vulnerablePackages": [{"name": {"comparison": "EQUALS",
                                                         "value": "minimist"}}]}
    )["findings"]  # fmt: skip
    assert {f["packageVulnerabilityDetails"]["vulnerabilityId"] for f in minimist} == {
        "CVE-2020-0003"
    }
    assert len(minimist) == 2
    not_web = inspector.list_findings(
        filterCriteria={"ecrImageRepositoryName": [{"comparison": "NOT_EQUALS",
                                                    "value": "team/web"}]}
    )["findings"]  # fmt: skip
    assert {
        f["resources"][0]["details"]["awsEcrContainerImage"]["repositoryName"] for f in not_web
    } == {"team/api"}
    future = inspector.list_findings(
        filterCriteria={"firstObservedAt": [{"startInclusive": time.time() + 3600}]}
    )["findings"]
    assert future == []
    tagged = inspector.list_findings(
        filterCriteria={"ecrImageTags": [{"comparison": "EQUALS", "value": "v1"}],
                        "findingStatus": [{"comparison": "EQUALS", "value": "ACTIVE"}],
                        "resourceType": [{"comparison": "EQUALS",
                                          "value": "AWS_ECR_CONTAINER_IMAGE"}]}
    )["findings"]  # fmt: skip
    assert len(tagged) == 6
    ordered = inspector.list_findings(
        sortCriteria={"field": "ECR_IMAGE_REPOSITORY_NAME", "sortOrder": "ASC"}
    )["findings"]
    names = [f["resources"][0]["details"]["awsEcrContainerImage"]["repositoryName"]
             for f in ordered]  # fmt: skip
    assert names == sorted(names)
    pages = list(
        inspector.get_paginator("list_findings").paginate(PaginationConfig={"PageSize": 4})
    )
    assert [len(p["findings"]) for p in pages] == [4, 2]
    arns = {f["findingArn"] for p in pages for f in p["findings"]}
    assert arns == {f["findingArn"] for f in everything}


def test_bad_input_is_a_validation_exception(server: TidegateServer, inspector: Any) -> None:
    # An unknown filter field (the CLI would refuse it itself; a raw request reaches us).
    done = aws(
        server, "list-findings", "--filter-criteria",
        json.dumps({"vulnerabilityId": [{"comparison": "EQUALS", "value": "x"}]}),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with pytest.raises(ClientError) as caught:
        inspector.list_findings(
            filterCriteria={"updatedAt": [{"startInclusive": 2000, "endInclusive": 1000}]}
        )
    error = caught.value.response
    assert error["Error"]["Code"] == "ValidationException"
    assert "startInclusive" in error["Error"]["Message"]
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as caught:
        inspector.list_findings(nextToken="not-a-token")
    assert caught.value.response["Error"]["Code"] == "ValidationException"


def test_unknown_filter_field_and_wrong_scope(server: TidegateServer) -> None:
    import httpx
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    key_id, secret = server.access_key()

    def post(body: dict[str, Any], service: str = "inspector2") -> httpx.Response:
        raw = json.dumps(body)
        request = AWSRequest("POST", f"{server.url}/findings/list", data=raw,
                             headers={"Content-Type": "application/json"})  # fmt: skip
        SigV4Auth(Credentials(key_id, secret), service, "us-east-1").add_auth(request)
        return httpx.post(request.url, content=raw, headers=dict(request.headers.items()))

    reply = post({"filterCriteria": {"repoName": [{"comparison": "EQUALS", "value": "x"}]}})
    assert reply.status_code == 400
    assert reply.headers["x-amzn-ErrorType"] == "ValidationException"
    body = reply.json()
    assert body["fields"][0]["name"] == "filterCriteria.repoName"
    assert "repoName" in body["message"]
    assert post({}, service="ecr").headers["x-amzn-ErrorType"] == "InvalidSignatureException"
    assert post({}).status_code == 200


def test_account_status(inspector: Any) -> None:
    out = inspector.batch_get_account_status()
    assert out["accounts"][0]["resourceState"]["ecr"]["status"] == "ENABLED"


def _api(server: TidegateServer, group_by: str) -> dict[tuple[str, ...], dict[str, int]]:
    import httpx

    groups = httpx.get(f"{server.url}/api/findings", params={"groupBy": group_by}).json()["groups"]
    fields = {
        "repository": ("repository",),
        "image": ("repository", "imageDigest"),
        "layer": ("repository", "imageDigest", "layerHash"),
        "package": ("packageName",),
        "vulnerability": ("vulnerabilityId",),
    }[group_by]
    return {tuple(g[k] for k in fields): _counts(g["severityCounts"]) for g in groups}


def _counts(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if v}


def _aggregate(inspector: Any, kind: str, **request: Any) -> list[dict[str, Any]]:
    pages = inspector.get_paginator("list_finding_aggregations").paginate(
        aggregationType=kind, **request
    )
    return [r for p in pages for r in p["responses"]]


def test_every_aggregation_matches_api_findings(server: TidegateServer, inspector: Any) -> None:
    repo = {
        (r["repositoryAggregation"]["repository"],): _counts(
            r["repositoryAggregation"]["severityCounts"]
        )
        for r in _aggregate(inspector, "REPOSITORY")
    }
    assert repo == _api(server, "repository")
    assert len(repo) == 2
    images = _aggregate(inspector, "AWS_ECR_CONTAINER")
    got = {
        (a["repository"], a["imageSha"]): _counts(a["severityCounts"])
        for a in (i["awsEcrContainerAggregation"] for i in images)
    }
    assert got == _api(server, "image")
    assert images[0]["awsEcrContainerAggregation"]["imageTags"] == ["v1"]
    assert images[0]["awsEcrContainerAggregation"]["resourceId"].startswith(
        "arn:aws:ecr:us-east-1:"
    )
    layers = {
        (a["repository"], a["resourceId"].rsplit("/", 1)[1], a["layerHash"]): _counts(
            a["severityCounts"]
        )
        for a in (r["imageLayerAggregation"] for r in _aggregate(inspector, "IMAGE_LAYER"))
    }
    assert layers == _api(server, "layer")
    packages = {
        (r["packageAggregation"]["packageName"],): _counts(
            r["packageAggregation"]["severityCounts"]
        )
        for r in _aggregate(inspector, "PACKAGE")
    }
    assert packages == _api(server, "package")
    titles = {
        (r["titleAggregation"]["vulnerabilityId"],): _counts(
            r["titleAggregation"]["severityCounts"]
        )
        for r in _aggregate(inspector, "TITLE")
    }
    assert titles == _api(server, "vulnerability")
    total = sum(c["all"] for c in _api(server, "repository").values())
    for kind, member in (("ACCOUNT", "accountAggregation"),
                         ("FINDING_TYPE", "findingTypeAggregation")):  # fmt: skip
        (only,) = _aggregate(inspector, kind)
        assert only[member]["severityCounts"]["all"] == total == 6
        assert only[member]["fixAvailableCount"] == 6


def test_aggregation_filters_and_sorts(server: TidegateServer, inspector: Any) -> None:
    web = _aggregate(
        inspector, "REPOSITORY",
        aggregationRequest={"repositoryAggregation": {
            "repositories": [{"comparison": "EQUALS", "value": "team/web"}],
            "sortBy": "ALL", "sortOrder": "ASC"}},
    )  # fmt: skip
    assert [r["repositoryAggregation"]["repository"] for r in web] == ["team/web"]
    assert web[0]["repositoryAggregation"]["affectedImages"] == 1
    lodash = _aggregate(
        inspector, "PACKAGE",
        aggregationRequest={"packageAggregation": {
            "packageNames": [{"comparison": "PREFIX", "value": "lod"}]}},
    )  # fmt: skip
    assert [r["packageAggregation"]["packageName"] for r in lodash] == ["lodash"]
    assert lodash[0]["packageAggregation"]["severityCounts"]["all"] == 4
    with pytest.raises(ClientError) as caught:
        inspector.list_finding_aggregations(
            aggregationType="REPOSITORY",
            aggregationRequest={"packageAggregation": {}},
        )
    assert caught.value.response["Error"]["Code"] == "ValidationException"


def test_coverage_of_a_manual_repository(server: TidegateServer, inspector: Any) -> None:
    ecr = server.ecr()
    ecr.create_repository(repositoryName="manual/tool")
    covered = [
        c
        for p in inspector.get_paginator("list_coverage").paginate()
        for c in p["coveredResources"]
    ]
    repos = {
        c["resourceMetadata"]["ecrRepository"]["name"]: c
        for c in covered
        if c["resourceType"] == "AWS_ECR_REPOSITORY"
    }
    manual = repos["manual/tool"]
    assert manual["resourceMetadata"]["ecrRepository"]["scanFrequency"] == "MANUAL"
    assert manual["scanStatus"] == {"statusCode": "INACTIVE", "reason": "SCAN_FREQUENCY_MANUAL"}
    assert manual["resourceId"].endswith(":repository/manual/tool")
    images = [c for c in covered if c["resourceType"] == "AWS_ECR_CONTAINER_IMAGE"]
    assert len(images) == 2
    for image in images:
        assert image["scanStatus"] == {"statusCode": "ACTIVE", "reason": "SUCCESSFUL"}
        assert image["resourceMetadata"]["ecrImage"]["tags"] == ["v1"]
        assert image["lastScannedAt"]
    only = inspector.list_coverage(
        filterCriteria={"ecrRepositoryName": [{"comparison": "EQUALS", "value": "manual/tool"}]}
    )["coveredResources"]
    assert [c["resourceType"] for c in only] == ["AWS_ECR_REPOSITORY"]
    stats = inspector.list_coverage_statistics(groupBy="RESOURCE_TYPE")
    assert stats["totalCounts"] == len(covered)
    by_type = {g["groupKey"]: g["count"] for g in stats["countsByGroup"]}
    assert by_type["AWS_ECR_CONTAINER_IMAGE"] == 2
    assert by_type["AWS_ECR_REPOSITORY"] == len(repos)
    with pytest.raises(ClientError) as caught:
        inspector.list_coverage(
            filterCriteria={"lastScannedAt": [{"startInclusive": 2000, "endInclusive": 1000}]}
        )
    assert caught.value.response["Error"]["Code"] == "ValidationException"


def test_finding_details(inspector: Any) -> None:
    arns = [f["findingArn"] for f in inspector.list_findings(maxResults=2)["findings"]]
    missing = arns[0][:-4] + "ffff" if not arns[0].endswith("ffff") else arns[0][:-4] + "0000"
    out = inspector.batch_get_finding_details(findingArns=[*arns, missing])
    assert [d["findingArn"] for d in out["findingDetails"]] == arns
    assert [e["findingArn"] for e in out["errors"]] == [missing]
    assert out["errors"][0]["errorCode"] == "FINDING_DETAILS_NOT_FOUND"


def test_configuration_is_the_continuous_scan_window(server: TidegateServer) -> None:
    first = aws(server, "get-configuration")
    assert first.returncode == 0, first.stderr
    state = json.loads(first.stdout)["ecrConfiguration"]["rescanDurationState"]
    assert state["rescanDuration"] == "LIFETIME"
    done = aws(server, "update-configuration", "--ecr-configuration", "rescanDuration=DAYS_30")
    assert done.returncode == 0, done.stderr
    state = json.loads(aws(server, "get-configuration").stdout)["ecrConfiguration"][
        "rescanDurationState"
    ]
    assert state["rescanDuration"] == "DAYS_30"
    assert state["updatedAt"]
    bad = aws(server, "update-configuration", "--ecr-configuration", "rescanDuration=DAYS_31")
    assert bad.returncode != 0
    again = json.loads(aws(server, "get-configuration").stdout)
    assert again["ecrConfiguration"]["rescanDurationState"]["rescanDuration"] == "DAYS_30"


def test_usage_totals_are_the_usage_report(server: TidegateServer, inspector: Any) -> None:
    import httpx

    report = httpx.get(f"{server.url}/api/usage").json()
    (total,) = inspector.list_usage_totals()["totals"]
    by_type = {u["type"]: u for u in total["usage"]}
    assert by_type["ECR_INITIAL_SCAN"]["total"] == report["total"]["initialScans"] == 2
    cost = by_type["ECR_INITIAL_SCAN"]["estimatedMonthlyCost"]
    cost += by_type["ECR_RESCAN"]["estimatedMonthlyCost"]
    assert cost == pytest.approx(report["total"]["cost"])


def test_filter_tags(server: TidegateServer, inspector: Any) -> None:
    criteria = {"vulnerabilityId": [{"comparison": "EQUALS", "value": "CVE-2020-0003"}]}
    arn = inspector.create_filter(
        name="tagged", action="NONE", filterCriteria=criteria, tags={"team": "web"}
    )["arn"]
    assert inspector.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "web"}
    inspector.tag_resource(resourceArn=arn, tags={"team": "api", "owner": "sec"})
    (listed,) = inspector.list_filters(arns=[arn])["filters"]
    assert listed["tags"] == {"team": "api", "owner": "sec"}
    inspector.untag_resource(resourceArn=arn, tagKeys=["team", "never-set"])
    assert inspector.list_tags_for_resource(resourceArn=arn)["tags"] == {"owner": "sec"}

    done = aws(server, "tag-resource", "--resource-arn", arn, "--tags", "stage=prod")
    assert done.returncode == 0, done.stderr
    done = aws(server, "list-tags-for-resource", "--resource-arn", arn)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["tags"] == {"owner": "sec", "stage": "prod"}

    too_many = {f"k{i}": "v" for i in range(49)}  # 51 with the two it has
    for tags in (too_many, {"k" * 129: "v"}, {"k": "v" * 257}, {"aws:owner": "me"}):
        with pytest.raises(ClientError) as info:
            inspector.tag_resource(resourceArn=arn, tags=tags)
        assert info.value.response["Error"]["Code"] == "ValidationException", tags
    with pytest.raises(ClientError) as info:
        inspector.create_filter(name="crowded", action="NONE", filterCriteria=criteria,
                                tags={f"k{i}": "v" for i in range(51)})  # fmt: skip
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert inspector.list_tags_for_resource(resourceArn=arn)["tags"] == {
        "owner": "sec", "stage": "prod"
    }  # fmt: skip

    inspector.delete_filter(arn=arn)
    unknown = arn[:-4] + ("0000" if not arn.endswith("0000") else "ffff")
    for gone in (arn, unknown):
        with pytest.raises(ClientError) as info:
            inspector.list_tags_for_resource(resourceArn=gone)
        assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
        with pytest.raises(ClientError) as info:
            inspector.tag_resource(resourceArn=gone, tags={"a": "b"})
        assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
