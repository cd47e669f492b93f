"""Every event builder produces exactly the envelope and detail fields of ecr-api.md §5."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest

from tidegate.errors import InvalidParameter
from tidegate.events import inspector, model
from tidegate.events.model import Origin, RepositoryScanChange

DIGEST = "sha256:" + "ab" * 32
AT = 1572316608.0  # 2019-10-29T02:36:48Z, the time in the spec's example
ORIGIN = Origin("123456789012", "us-east-1", clock=lambda: AT, new_id=lambda: "e-1")
REPO_ARN = "arn:aws:ecr:us-east-1:123456789012:repository/my-repo"
ENVELOPE_KEYS = [
    "version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"
]  # fmt: skip


def roundtrip(event: model.Event) -> dict[str, Any]:
    """What a consumer parses: the stored body, not the Python object."""
    parsed: dict[str, Any] = json.loads(event.body())
    assert list(parsed) == ENVELOPE_KEYS
    assert parsed["version"] == "0"
    assert parsed["account"] == "123456789012"
    assert parsed["region"] == "us-east-1"
    assert parsed["time"] == "2019-10-29T02:36:48Z"
    return parsed


def test_default_origin_ids_are_uuids_and_time_is_iso_z() -> None:
    event = model.image_action(
        Origin("123456789012", "eu-west-1"),
        action="PUSH",
        repository_name="r",
        image_digest=DIGEST,
        image_tag="v1",
    )
    assert uuid.UUID(event.id).version == 4
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event.time)
    assert json.loads(event.body())["region"] == "eu-west-1"


def test_image_action_push() -> None:
    event = model.image_action(
        ORIGIN,
        action="PUSH",
        repository_name="my-repo",
        image_digest=DIGEST,
        image_tag="latest",
        manifest_media_type="application/vnd.oci.image.manifest.v1+json",
        artifact_media_type="application/vnd.oci.image.config.v1+json",
    )
    body = roundtrip(event)
    assert body["id"] == "e-1"
    assert body["detail-type"] == "ECR Image Action"
    assert body["source"] == "aws.ecr"
    assert body["resources"] == []
    assert body["detail"] == {
        "result": "SUCCESS",
        "repository-name": "my-repo",
        "image-digest": DIGEST,
        "action-type": "PUSH",
        "image-tag": "latest",
        "manifest-media-type": "application/vnd.oci.image.manifest.v1+json",
        "artifact-media-type": "application/vnd.oci.image.config.v1+json",
    }
    assert list(body["detail"])[:5] == [
        "result", "repository-name", "image-digest", "action-type", "image-tag"
    ]  # fmt: skip


def test_image_action_delete_by_digest_has_no_tag() -> None:
    event = model.image_action(
        ORIGIN, action="DELETE", repository_name="my-repo", image_digest=DIGEST, image_tag=None
    )
    assert roundtrip(event)["detail"] == {
        "result": "SUCCESS",
        "repository-name": "my-repo",
        "image-digest": DIGEST,
        "action-type": "DELETE",
    }


@pytest.mark.parametrize(
    ("field", "value"), [("action", "PULL"), ("result", "OK"), ("repository_name", "")]
)
def test_image_action_rejects_values_outside_the_schema(field: str, value: str) -> None:
    args: dict[str, Any] = {
        "action": "PUSH", "repository_name": "r", "image_digest": DIGEST, "image_tag": None
    }  # fmt: skip
    args[field] = value
    with pytest.raises(InvalidParameter):
        model.image_action(ORIGIN, **args)


def test_image_scan_matches_the_documented_example() -> None:
    event = model.image_scan(
        ORIGIN,
        repository_name="my-repo",
        image_digest=DIGEST,
        image_tags=[],
        severity_counts={"MEDIUM": 9, "CRITICAL": 10, "LOW": 0},
    )
    body = roundtrip(event)
    assert body["detail-type"] == "ECR Image Scan"
    assert body["source"] == "aws.ecr"
    assert body["resources"] == [REPO_ARN]
    assert body["detail"] == {
        "scan-status": "COMPLETE",
        "repository-name": "my-repo",
        "finding-severity-counts": {"CRITICAL": 10, "MEDIUM": 9},
        "image-digest": DIGEST,
        "image-tags": [],
    }
    assert list(body["detail"]["finding-severity-counts"]) == ["CRITICAL", "MEDIUM"]


def test_image_scan_rejects_inspector_severities_and_negative_counts() -> None:
    for counts in ({"UNTRIAGED": 1}, {"HIGH": -1}):
        with pytest.raises(InvalidParameter):
            model.image_scan(
                ORIGIN, repository_name="r", image_digest=DIGEST, image_tags=[],
                severity_counts=counts,
            )  # fmt: skip


def test_inspector_scan_names_the_repository_by_arn_and_totals_every_severity() -> None:
    event = model.inspector_scan(
        ORIGIN,
        repository_name="my-repo",
        image_digest=DIGEST,
        image_tags=["v2", "latest"],
        severity_counts={"CRITICAL": 7, "HIGH": 61, "MEDIUM": 62, "LOW": 20, "UNTRIAGED": 8},
    )
    body = roundtrip(event)
    assert body["detail-type"] == "Inspector2 Scan"
    assert body["source"] == "aws.inspector2"
    assert body["resources"] == [REPO_ARN]
    assert body["detail"] == {
        "scan-status": "INITIAL_SCAN_COMPLETE",
        "repository-name": REPO_ARN,
        "finding-severity-counts": {"CRITICAL": 7, "HIGH": 61, "MEDIUM": 62, "TOTAL": 158},
        "image-digest": DIGEST,
        "image-tags": ["latest", "v2"],
        "version": "1.0",
    }


def test_scan_resource_change() -> None:
    event = model.scan_resource_change(
        ORIGIN,
        repositories=[RepositoryScanChange("my-repo", "CONTINUOUS_SCAN", "MANUAL")],
    )
    body = roundtrip(event)
    assert body["detail-type"] == "ECR Scan Resource Change"
    assert body["source"] == "aws.ecr"
    assert body["resources"] == []
    assert body["detail"] == {
        "action-type": "SCAN_FREQUENCY_CHANGE",
        "repositories": [
            {
                "repository-name": "my-repo",
                "repository-arn": REPO_ARN,
                "scan-frequency": "CONTINUOUS_SCAN",
                "previous-scan-frequency": "MANUAL",
            }
        ],
        "resource-type": "REPOSITORY",
        "scan-type": "ENHANCED",
    }
    with pytest.raises(InvalidParameter):
        model.scan_resource_change(
            ORIGIN, repositories=[RepositoryScanChange("r", "HOURLY", "MANUAL")]
        )


def ecr_enhanced_finding() -> dict[str, Any]:
    """An entry of DescribeImageScanFindings.enhancedFindings (ECR spelling, epoch times)."""
    return {
        "awsAccountId": "123456789012",
        "findingArn": ORIGIN.finding_arn("0" * 32),
        "title": "CVE-2021-44228 - org.apache.logging.log4j:log4j-core",
        "description": "Log4Shell",
        "type": "PACKAGE_VULNERABILITY",
        "severity": "CRITICAL",
        "status": "ACTIVE",
        "score": 10.0,
        "scoreDetails": {"cvss": {"score": 10.0, "scoreSource": "NVD", "version": "3.1",
                                  "scoringVector": "CVSS:3.1/AV:N", "adjustments": []}},
        "firstObservedAt": AT,
        "lastObservedAt": AT,
        "updatedAt": AT,
        "fixAvailable": "YES",
        "remediation": {"recommendation": {"url": "https://nvd.nist.gov/x", "text": "upgrade"}},
        "packageVulnerabilityDetails": {
            "vulnerabilityId": "CVE-2021-44228",
            "source": "NVD",
            "vendorCreatedAt": AT,
            "vulnerablePackages": [
                {"name": "log4j-core", "version": "2.14.1", "packageManager": "JAR",
                 "sourceLayerHash": DIGEST, "fixedInVersion": "2.15.0"}
            ],
        },
        "resources": [
            {"id": ORIGIN.image_arn("my-repo", DIGEST), "type": "AWS_ECR_CONTAINER_IMAGE",
             "details": {"awsEcrContainerImage": {"registry": "123456789012",
                                                  "repositoryName": "my-repo",
                                                  "imageHash": DIGEST, "pushedAt": AT}}}
        ],
    }  # fmt: skip


def test_inspector_finding_converts_ecr_spelling_and_renders_times_as_inspector_does() -> None:
    event = model.inspector_finding(
        ORIGIN, ecr_enhanced_finding(), repository_name="my-repo", image_digest=DIGEST
    )
    body = roundtrip(event)
    assert body["detail-type"] == "Inspector2 Finding"
    assert body["source"] == "aws.inspector2"
    assert body["resources"] == [f"{REPO_ARN}/{DIGEST}"]
    detail = body["detail"]
    assert detail["findingArn"] == "arn:aws:inspector2:us-east-1:123456789012:finding/" + "0" * 32
    assert detail["inspectorScore"] == 10.0
    assert "score" not in detail
    assert "scoreDetails" not in detail
    assert detail["inspectorScoreDetails"]["adjustedCvss"]["scoreSource"] == "NVD"
    assert detail["remediation"] == {
        "recommendation": {"Url": "https://nvd.nist.gov/x", "text": "upgrade"}
    }
    stamp = "Tue Oct 29 02:36:48.000 UTC 2019"
    assert detail["firstObservedAt"] == detail["lastObservedAt"] == detail["updatedAt"] == stamp
    assert detail["packageVulnerabilityDetails"]["vendorCreatedAt"] == stamp
    image = detail["resources"][0]["details"]["awsEcrContainerImage"]
    assert image["pushedAt"] == stamp
    assert image["repositoryName"] == "my-repo"
    assert detail["packageVulnerabilityDetails"]["vulnerablePackages"][0]["fixedInVersion"] == (
        "2.15.0"
    )


def test_inspector_finding_keeps_inspector_spelling_and_string_times() -> None:
    finding = inspector.to_inspector_finding(ecr_enhanced_finding())
    finding["status"] = "CLOSED"
    again = model.inspector_finding(ORIGIN, finding, repository_name="my-repo", image_digest=DIGEST)
    assert dict(again.detail) == finding


@pytest.mark.parametrize(
    ("key", "value"), [("status", "OPEN"), ("severity", "UNDEFINED"), ("findingArn", None)]
)
def test_inspector_finding_validates(key: str, value: object) -> None:
    finding = ecr_enhanced_finding()
    if value is None:
        del finding[key]
    else:
        finding[key] = value
    with pytest.raises(InvalidParameter):
        model.inspector_finding(ORIGIN, finding, repository_name="my-repo", image_digest=DIGEST)


def test_inspector_time_has_milliseconds_and_english_names() -> None:
    assert inspector.inspector_time(1725468938.411) == "Wed Sep 04 16:55:38.411 UTC 2024"


def test_event_ids_are_version_4_uuids() -> None:
    import uuid

    from tidegate.events.model import _uuid4

    ids = {_uuid4() for _ in range(2000)}
    assert len(ids) == 2000
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
