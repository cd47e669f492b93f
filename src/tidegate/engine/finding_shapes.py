"""Findings rows as ECR wire shapes: BASIC `findings[]` and ENHANCED `enhancedFindings[]`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from tidegate.events.inspector import inspector_time
from tidegate.events.model import Origin
from tidegate.scanner.report.findings import advisory_url
from tidegate.scanner.severity import Severity


def _cvss(details: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [c for c in details.get("cvss", []) if c.get("vector")]


def _version(entry: Mapping[str, Any]) -> str:
    """The CVSS version of a stored entry (older rows stored no `version`)."""
    if entry.get("version"):
        return str(entry["version"])
    vector = str(entry.get("vector", ""))
    if vector.startswith("CVSS:"):
        return vector[5:8]
    return "2.0"


def _v3(details: Mapping[str, Any]) -> dict[str, Any] | None:
    for entry in _cvss(details):
        if _version(entry).startswith("3"):
            return entry
    return None


# The remediation text per fix state (scanner.vulndb.model.FixState values).
_REMEDIATION = {
    "not_fixed": "No fixed version is available yet.",
    "wont_fix": "The distribution will not fix this vulnerability in this release.",
    "deferred": "The distribution has deferred a fix for this vulnerability.",
    "end_of_life": "This release is no longer supported by the distribution, so no fix "
    "will be published; move to a supported release.",
}


def remediation_text(row: Mapping[str, Any]) -> str:
    """What to do, from the row's fixed version and fix state."""
    if row["fixed_in"]:
        return f"Upgrade {row['package_name']} to {row['fixed_in']} or later."
    state = row.get("fix_state") or "not_fixed"
    return _REMEDIATION.get(state, _REMEDIATION["not_fixed"])


def basic_finding(row: Mapping[str, Any]) -> dict[str, Any]:
    """An `ImageScanFinding` (BASIC): name, uri, severity, package and CVSS attributes."""
    details = orjson.loads(row["details"])
    attributes = [
        {"key": "package_name", "value": row["package_name"]},
        {"key": "package_version", "value": row["package_version"]},
    ]
    for entry in _cvss(details):
        version = _version(entry)[:1]
        if version not in ("2", "3"):
            continue  # ECR's attribute keys name only CVSS2_* and CVSS3_*
        attributes.append({"key": f"CVSS{version}_VECTOR", "value": entry["vector"]})
        if entry.get("score") is not None:
            attributes.append({"key": f"CVSS{version}_SCORE", "value": str(entry["score"])})
    out: dict[str, Any] = {
        "name": row["vuln_id"],
        "uri": advisory_url(row["vuln_id"]),
        "severity": row["severity"],
        "attributes": [a for a in attributes if a["value"]][:50],
    }
    if details.get("description"):
        out["description"] = details["description"]
    return out


@dataclass(frozen=True, slots=True)
class ImageContext:
    """The image a finding belongs to, as Inspector's resource details describe it."""

    repository_name: str
    digest: str
    tags: Sequence[str]
    pushed_at: float
    platform: str = ""


def _split_version(version: str) -> tuple[int, str, str]:
    """(epoch, version, release) the way Inspector splits OS package versions."""
    epoch = 0
    if ":" in version:
        head, version = version.split(":", 1)
        epoch = int(head) if head.isdigit() else 0
    release = ""
    if "-" in version:
        version, release = version.rsplit("-", 1)
    return epoch, version, release


def static_part(row: Mapping[Any, Any]) -> dict[str, Any]:
    """The members of an enhanced finding that depend only on the finding row's facts.

    Everything but the account, ARN, status, timestamps and the image resource: the same
    for a vulnerability in the same package in every image, and fixed between DB changes,
    so it is rendered once when the row is written (`findings.shape`).
    """
    details = orjson.loads(row["details"])
    v3 = _v3(details)
    epoch, version, release = (
        _split_version(row["package_version"])
        if row["package_manager"] == "OS"
        else (0, row["package_version"], "")
    )
    package: dict[str, Any] = {
        "name": row["package_name"],
        "version": version,
        "packageManager": row["package_manager"],
        "sourceLayerHash": row["layer"],
    }
    if release:
        package["release"] = release
    if epoch:
        package["epoch"] = epoch
    if details.get("arch"):
        package["arch"] = details["arch"]
    if row["file_path"]:
        package["filePath"] = row["file_path"]
    if row["fixed_in"]:
        package["fixedInVersion"] = row["fixed_in"]
    vuln: dict[str, Any] = {
        "vulnerabilityId": row["vuln_id"],
        "source": details.get("source") or "TIDEGATE",
        "sourceUrl": advisory_url(row["vuln_id"]),
        "referenceUrls": details.get("references", [])[:50],
        "relatedVulnerabilities": details.get("aliases", []),
        "vulnerablePackages": [package],
        "cvss": [
            {"baseScore": c["score"], "scoringVector": c["vector"],
             "source": c.get("source") or "NVD", "version": _version(c)}
            for c in _cvss(details) if c.get("score") is not None
        ],
    }  # fmt: skip
    # The rating the finding's severity came from: the feed's own word, else the CVSS band.
    vendor = details.get("vendor_severity") or (
        row["severity"] if row["severity"] not in (Severity.UNDEFINED, Severity.UNTRIAGED) else ""
    )
    if vendor:
        vuln["vendorSeverity"] = vendor
    title = f"{row['vuln_id']} - {row['package_name']}"
    out: dict[str, Any] = {
        "title": title,
        "description": details.get("description") or title,
        "type": "PACKAGE_VULNERABILITY",
        "severity": row["severity"],
        "fixAvailable": row["fix_available"],
        "exploitAvailable": row["exploit_available"],
        "packageVulnerabilityDetails": vuln,
        "remediation": {
            "recommendation": {
                "url": advisory_url(row["vuln_id"]),
                "text": remediation_text(row),
            }
        },
    }
    if row["score"] is not None:
        out["score"] = row["score"]
    if v3 is not None and v3.get("score") is not None:
        out["scoreDetails"] = {
            "cvss": {
                "score": v3["score"],
                "scoreSource": v3.get("source") or "NVD",
                "scoringVector": v3["vector"],
                "version": _version(v3),
                "adjustments": [],
            }
        }
    return out


def render_static_part(row: Mapping[Any, Any]) -> str:
    """`static_part` as the JSON text stored in `findings.shape`."""
    return orjson.dumps(static_part(row)).decode()


def image_resources(origin: Origin, image: ImageContext) -> list[dict[str, Any]]:
    """`resources[]`: the image, as Inspector's resource details describe it."""
    container: dict[str, Any] = {
        "registry": origin.account,
        "repositoryName": image.repository_name,
        "imageHash": image.digest,
        "imageTags": list(image.tags),
        "pushedAt": image.pushed_at,
    }
    if image.platform:
        container["platform"] = image.platform
    if image.platform.count("/") >= 1:
        container["architecture"] = image.platform.split("/")[1]
    return [
        {
            "id": origin.image_arn(image.repository_name, image.digest),
            "type": "AWS_ECR_CONTAINER_IMAGE",
            "details": {"awsEcrContainerImage": container},
        }
    ]


def inspector_resources(origin: Origin, image: ImageContext) -> list[dict[str, Any]]:
    """`image_resources` in Inspector's spelling (the push time rendered as text)."""
    resources = image_resources(origin, image)
    container = resources[0]["details"]["awsEcrContainerImage"]
    container["pushedAt"] = inspector_time(float(image.pushed_at))
    return resources


def dynamic_part(
    row: Mapping[Any, Any], origin: Origin, resources: list[dict[str, Any]]
) -> dict[str, Any]:
    """The members of an enhanced finding that belong to the row and its image."""
    return {
        "awsAccountId": origin.account,
        "findingArn": origin.finding_arn(row["finding_key"]),
        "status": row["status"],
        "firstObservedAt": row["first_observed_at"],
        "lastObservedAt": row["last_observed_at"],
        "updatedAt": row["updated_at"],
        "resources": resources,
    }


def inspector_dynamic_part(
    row: Mapping[Any, Any], origin: Origin, resources: list[dict[str, Any]]
) -> dict[str, Any]:
    """`to_inspector_finding(dynamic_part(...))` built directly (one per finding event);
    `resources` are already in Inspector's spelling."""
    return {
        "awsAccountId": origin.account,
        "findingArn": origin.finding_arn(row["finding_key"]),
        "status": row["status"],
        "firstObservedAt": inspector_time(float(row["first_observed_at"])),
        "lastObservedAt": inspector_time(float(row["last_observed_at"])),
        "updatedAt": inspector_time(float(row["updated_at"])),
        "resources": resources,
    }


def enhanced_finding(
    row: Mapping[str, Any],
    origin: Origin,
    image: ImageContext,
    static: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An `EnhancedImageScanFinding` (Inspector-shaped) for DescribeImageScanFindings/events.

    `static`, when given, is the row's `static_part` (shared by callers rendering many
    findings of the same content); it is not modified.
    """
    if static is None:
        static = static_part(row)
    return {**dynamic_part(row, origin, image_resources(origin, image)), **static}


def enhanced_finding_json(
    row: Mapping[Any, Any], origin: Origin, resources: list[dict[str, Any]]
) -> bytes:
    """`enhanced_finding` as JSON bytes, splicing in the row's pre-rendered static part.

    A page of 1,000 findings is mostly static text: splicing stored JSON avoids parsing the
    details and rebuilding ~30 members per finding on every DescribeImageScanFindings.
    """
    shape = row["shape"] or render_static_part(row)
    dynamic = orjson.dumps(dynamic_part(row, origin, resources))
    return dynamic[:-1] + b"," + shape[1:].encode()
