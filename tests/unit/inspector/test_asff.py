"""ASFF findings carry every attribute Security Hub requires and fit its model exactly."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from botocore.loaders import Loader

from tidegate.ecr.validation import check_input
from tidegate.engine.finding_shapes import ImageContext, enhanced_finding_json, image_resources
from tidegate.events.model import Origin
from tidegate.inspector.asff import NORMALIZED, to_asff

ORIGIN = Origin("123456789012", "eu-west-1")
IMAGE = ImageContext("team/app", "sha256:" + "c" * 64, ["v1"], 1700000000.5, "linux/arm64")

# "Required top-level ASFF attributes" in the Security Hub user guide (asff-required-
# attributes): BatchImportFindings refuses a finding without any of these.
REQUIRED = (
    "AwsAccountId", "CreatedAt", "Description", "GeneratorId", "Id", "ProductArn",
    "Resources", "SchemaVersion", "Severity", "Title", "Types", "UpdatedAt",
)  # fmt: skip


def _finding(**overrides: Any) -> dict[str, Any]:
    details = {
        "aliases": ["GHSA-xxxx-yyyy-zzzz"], "description": "Heap overflow", "source": "nvd",
        "references": ["https://example.org/a"], "vendor_severity": "high", "arch": "amd64",
        "cvss": [{"vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "score": 9.8,
                  "source": "NVD", "version": "3.1"}],
    }  # fmt: skip
    row: dict[str, Any] = {
        "finding_key": "ab" * 16, "vuln_id": "CVE-2024-0001", "package_name": "openssl",
        "package_version": "1:3.0.11-1~deb12u2", "package_manager": "OS",
        "file_path": "var/lib/dpkg/status", "layer": "sha256:" + "a" * 64, "severity": "HIGH",
        "score": 9.8, "fixed_in": "1:3.0.13-1~deb12u1", "fix_available": "YES",
        "exploit_available": "NO", "status": "ACTIVE", "details": json.dumps(details),
        "first_observed_at": 1700000001.25, "last_observed_at": 1700000002.0,
        "updated_at": 1700000003.0, "shape": None,
    }  # fmt: skip
    row.update(overrides)
    shaped: dict[str, Any] = orjson.loads(
        enhanced_finding_json(row, ORIGIN, image_resources(ORIGIN, IMAGE))
    )
    return shaped


CASES = [
    _finding(),
    _finding(severity="UNTRIAGED", status="SUPPRESSED", vuln_id="GHSA-aaaa-bbbb-cccc",
             fixed_in="", fix_available="NO", score=None, package_manager="NPM",
             package_version="4.17.15", file_path="", details=json.dumps({})),
    _finding(status="CLOSED", severity="CRITICAL"),
]  # fmt: skip


@pytest.mark.parametrize("finding", CASES)
def test_every_required_attribute_is_present_and_non_empty(finding: dict[str, Any]) -> None:
    out = to_asff(finding, ORIGIN)
    missing = [name for name in REQUIRED if not out.get(name)]
    assert missing == []
    assert out["SchemaVersion"] == "2018-10-08"
    assert out["Id"] == finding["findingArn"]
    assert out["ProductArn"] == (
        "arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default"
    )


@pytest.mark.parametrize("finding", CASES)
def test_findings_fit_security_hubs_batch_import_model(finding: dict[str, Any]) -> None:
    model = Loader().load_service_model("securityhub", "service-2")
    # The model's own required members are a subset of the guide's list.
    assert set(model["shapes"]["AwsSecurityFinding"]["required"]) <= set(REQUIRED)
    check_input(model, "BatchImportFindings", {"Findings": [to_asff(finding, ORIGIN)]},
                strict=True)  # fmt: skip


def test_fields_follow_the_finding() -> None:
    first, untriaged, closed = (to_asff(f, ORIGIN) for f in CASES)
    assert first["Severity"] == {"Label": "HIGH", "Normalized": 70, "Original": "HIGH"}
    assert first["Types"] == ["Software and Configuration Checks/Vulnerabilities/CVE"]
    assert first["CreatedAt"] == "2023-11-14T22:13:21.250Z"
    assert first["UpdatedAt"] == "2023-11-14T22:13:23.000Z"
    assert (first["Workflow"], first["RecordState"]) == ({"Status": "NEW"}, "ACTIVE")
    resource = first["Resources"][0]
    assert resource["Type"] == "AwsEcrContainerImage"
    assert resource["Id"] == ORIGIN.image_arn("team/app", IMAGE.digest)
    assert resource["Details"]["AwsEcrContainerImage"] == {
        "RegistryId": "123456789012", "RepositoryName": "team/app", "Architecture": "arm64",
        "ImageDigest": IMAGE.digest, "ImageTags": ["v1"],
        "ImagePublishedAt": "2023-11-14T22:13:20.500Z",
    }  # fmt: skip
    vulnerability = first["Vulnerabilities"][0]
    assert vulnerability["Id"] == "CVE-2024-0001"
    assert vulnerability["FixAvailable"] == "YES"
    package = vulnerability["VulnerablePackages"][0]
    assert (package["Name"], package["Epoch"], package["Version"], package["Release"]) == (
        "openssl", "1", "3.0.11", "1~deb12u2")  # fmt: skip
    assert vulnerability["Cvss"][0] == {
        "Version": "3.1", "BaseScore": 9.8, "Source": "NVD",
        "BaseVector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    }  # fmt: skip
    assert untriaged["Severity"]["Label"] == "INFORMATIONAL"
    assert untriaged["Severity"]["Original"] == "UNTRIAGED"
    assert untriaged["Types"] == ["Software and Configuration Checks/Vulnerabilities"]
    assert untriaged["Workflow"] == {"Status": "SUPPRESSED"}
    assert (closed["Workflow"], closed["RecordState"]) == ({"Status": "RESOLVED"}, "ARCHIVED")
    assert closed["Severity"]["Normalized"] == NORMALIZED["CRITICAL"]


def test_long_text_is_clipped_to_security_hubs_limits() -> None:
    long = _finding(details=json.dumps({"description": "x" * 5000}))
    out = to_asff(long, ORIGIN)
    assert len(out["Description"]) == 1024
    assert out["Description"].endswith("…")
