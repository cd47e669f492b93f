"""Findings in the AWS Security Finding Format (ASFF 2018-10-08), for Security Hub's
BatchImportFindings or any SIEM that reads it.

Made from the ECR-shaped findings ListFindings renders, so `Id` is the finding's ARN and the
facts are the ones `aws inspector2 list-findings` shows. Empty values are left out: the
format refuses empty strings. The ProductArn is the account's own "default" product, the
one Security Hub accepts for findings an account imports itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tidegate.events.model import Origin
from tidegate.inspector.report_formats import iso
from tidegate.scanner.severity import Severity
from tidegate.states import FindingStatus

SCHEMA_VERSION = "2018-10-08"
GENERATOR_ID = "tidegate/enhanced-scanning"
# Security Hub's label -> normalized mapping; Tidegate's UNDEFINED/UNTRIAGED have no label.
NORMALIZED: dict[str, int] = {
    Severity.INFORMATIONAL: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 40,
    Severity.HIGH: 70,
    Severity.CRITICAL: 90,
}
# A finding's status -> the ASFF Workflow.Status Security Hub shows.
WORKFLOW: dict[str, str] = {
    FindingStatus.ACTIVE: "NEW",
    FindingStatus.SUPPRESSED: "SUPPRESSED",
    FindingStatus.CLOSED: "RESOLVED",
}
TITLE_MAX, DESCRIPTION_MAX = 256, 1024


def product_arn(origin: Origin) -> str:
    return f"arn:aws:securityhub:{origin.region}:{origin.account}:product/{origin.account}/default"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _pruned(obj: Mapping[str, Any]) -> dict[str, Any]:
    """`obj` without empty strings, lists and objects (ASFF refuses empty strings)."""
    return {k: v for k, v in obj.items() if v is not None and v != "" and v != [] and v != {}}


def _package(p: Mapping[str, Any]) -> dict[str, Any]:
    return _pruned({
        "Name": p.get("name"), "Version": p.get("version"),
        "Epoch": str(p["epoch"]) if p.get("epoch") else None, "Release": p.get("release"),
        "Architecture": p.get("arch"), "PackageManager": p.get("packageManager"),
        "FilePath": p.get("filePath"), "FixedInVersion": p.get("fixedInVersion"),
        "Remediation": p.get("remediation"), "SourceLayerHash": p.get("sourceLayerHash"),
    })  # fmt: skip


def _vulnerability(finding: Mapping[str, Any]) -> dict[str, Any]:
    vuln = finding.get("packageVulnerabilityDetails", {})
    vendor = _pruned({
        "Name": vuln.get("source") or "TIDEGATE", "Url": vuln.get("sourceUrl"),
        "VendorSeverity": vuln.get("vendorSeverity"),
        "VendorCreatedAt": iso(vuln.get("vendorCreatedAt")),
        "VendorUpdatedAt": iso(vuln.get("vendorUpdatedAt")),
    })  # fmt: skip
    cvss = [
        _pruned({"Version": c.get("version"), "BaseScore": c.get("baseScore"),
                 "BaseVector": c.get("scoringVector"), "Source": c.get("source")})
        for c in vuln.get("cvss", [])
    ]  # fmt: skip
    return _pruned({
        "Id": vuln.get("vulnerabilityId") or finding.get("title"),
        "VulnerablePackages": [_package(p) for p in vuln.get("vulnerablePackages", [])],
        "Cvss": cvss, "RelatedVulnerabilities": vuln.get("relatedVulnerabilities"),
        "Vendor": vendor, "ReferenceUrls": vuln.get("referenceUrls"),
        "FixAvailable": finding.get("fixAvailable"),
        "ExploitAvailable": finding.get("exploitAvailable"),
    })  # fmt: skip


def _resource(resource: Mapping[str, Any], origin: Origin) -> dict[str, Any]:
    image = resource.get("details", {}).get("awsEcrContainerImage", {})
    details = _pruned({
        "RegistryId": image.get("registry"), "RepositoryName": image.get("repositoryName"),
        "Architecture": image.get("architecture"), "ImageDigest": image.get("imageHash"),
        "ImageTags": image.get("imageTags"), "ImagePublishedAt": iso(image.get("pushedAt")),
    })  # fmt: skip
    return {"Type": "AwsEcrContainerImage", "Id": resource["id"], "Partition": "aws",
            "Region": origin.region, "Details": {"AwsEcrContainerImage": details}}  # fmt: skip


def _types(vulnerability_id: str) -> list[str]:
    base = "Software and Configuration Checks/Vulnerabilities"
    return [f"{base}/CVE"] if vulnerability_id.startswith("CVE-") else [base]


def to_asff(finding: Mapping[str, Any], origin: Origin) -> dict[str, Any]:
    """One ECR-shaped enhanced finding as an `AwsSecurityFinding`."""
    severity = str(finding.get("severity", Severity.INFORMATIONAL))
    label = severity if severity in NORMALIZED else Severity.INFORMATIONAL
    status = str(finding.get("status", FindingStatus.ACTIVE))
    vulnerability = _vulnerability(finding)
    title = str(finding.get("title") or vulnerability["Id"])
    recommendation = finding.get("remediation", {}).get("recommendation", {})
    out = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding["findingArn"],
        "ProductArn": product_arn(origin),
        "ProductName": "Tidegate",
        "CompanyName": "Tidegate",
        "Region": origin.region,
        "GeneratorId": GENERATOR_ID,
        "AwsAccountId": str(finding.get("awsAccountId") or origin.account),
        "Types": _types(str(vulnerability["Id"])),
        "FirstObservedAt": iso(finding.get("firstObservedAt")),
        "LastObservedAt": iso(finding.get("lastObservedAt")),
        "CreatedAt": iso(finding.get("firstObservedAt")),
        "UpdatedAt": iso(finding.get("updatedAt") or finding.get("lastObservedAt")),
        "Severity": {"Label": label, "Normalized": NORMALIZED[label], "Original": severity},
        "Title": _clip(title, TITLE_MAX),
        "Description": _clip(str(finding.get("description") or title), DESCRIPTION_MAX),
        "Remediation": {"Recommendation": _pruned({"Text": recommendation.get("text"),
                                                   "Url": recommendation.get("url")})},
        "ProductFields": _pruned({"tidegate/FindingStatus": status,
                                  "tidegate/InspectorScore": _text(finding.get("score"))}),
        "Resources": [_resource(r, origin) for r in finding.get("resources", [])],
        "Vulnerabilities": [vulnerability],
        "Workflow": {"Status": WORKFLOW.get(status, "NEW")},
        "RecordState": "ARCHIVED" if status == FindingStatus.CLOSED else "ACTIVE",
    }  # fmt: skip
    return _pruned(out)


def _text(value: object) -> str | None:
    return None if value is None else str(value)
