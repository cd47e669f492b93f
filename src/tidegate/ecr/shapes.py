"""Domain values → ECR JSON members (camelCase, epoch seconds, absent members omitted)."""

from __future__ import annotations

from typing import Any

from tidegate.ecr.context import EcrContext
from tidegate.ecr.errors import EcrError
from tidegate.registry.image_scans import ScanState
from tidegate.registry.images import ImageFailure, ImageInfo, ImageRef
from tidegate.registry.metadata import RepoRow
from tidegate.states import SCANNED


def repository(ctx: EcrContext, repo: RepoRow) -> dict[str, Any]:
    """The `Repository` shape."""
    out: dict[str, Any] = {
        "repositoryArn": ctx.repository_arn(repo.name),
        "registryId": ctx.registry_id,
        "repositoryName": repo.name,
        "repositoryUri": f"{ctx.host}/{repo.name}",
        "createdAt": repo.created_at,
        "imageTagMutability": repo.tag_mutability,
        "imageScanningConfiguration": {"scanOnPush": repo.scan_on_push},
        "encryptionConfiguration": {"encryptionType": repo.encryption_type},
    }
    if repo.mutability_exclusions:
        out["imageTagMutabilityExclusionFilters"] = exclusion_filters(repo.mutability_exclusions)
    if repo.kms_key:
        out["encryptionConfiguration"]["kmsKey"] = repo.kms_key
    return out


def exclusion_filters(patterns: tuple[str, ...]) -> list[dict[str, str]]:
    """ImageTagMutabilityExclusionFilter list."""
    return [{"filterType": "WILDCARD", "filter": p} for p in patterns]


def image_id(ref: ImageRef) -> dict[str, str]:
    """ImageIdentifier with only the members that are known."""
    out: dict[str, str] = {}
    if ref.digest is not None:
        out["imageDigest"] = ref.digest
    if ref.tag is not None:
        out["imageTag"] = ref.tag
    return out


def image_ref(raw: dict[str, Any]) -> ImageRef:
    """ImageIdentifier → ImageRef."""
    return ImageRef(raw.get("imageDigest"), raw.get("imageTag"))


def failure(item: ImageFailure) -> dict[str, Any]:
    """ImageFailure shape."""
    return {
        "imageId": image_id(item.ref),
        "failureCode": item.code.value,
        "failureReason": item.reason,
    }


def scan_status(state: ScanState) -> dict[str, str]:
    """ImageScanStatus shape."""
    return {"status": state.status, "description": state.description}


def image_detail(ctx: EcrContext, repo_name: str, info: ImageInfo) -> dict[str, Any]:
    """ImageDetail shape for DescribeImages."""
    m = info.manifest
    out: dict[str, Any] = {
        "registryId": ctx.registry_id,
        "repositoryName": repo_name,
        "imageDigest": m.digest,
        "imageSizeInBytes": m.image_size,
        "imagePushedAt": m.pushed_at,
        "imageManifestMediaType": m.media_type,
        "imageStatus": "ACTIVE",
    }
    if info.tags:
        out["imageTags"] = list(info.tags)
    if info.artifact_media_type:
        out["artifactMediaType"] = info.artifact_media_type
    if m.last_pulled_at is not None:
        out["lastRecordedPullTime"] = m.last_pulled_at
    if m.subject_digest:
        out["subjectManifestDigest"] = m.subject_digest
    if info.scan is not None:
        out["imageScanStatus"] = scan_status(info.scan)
        if info.scan.completed_at is not None and info.scan.status in SCANNED:
            out["imageScanFindingsSummary"] = findings_summary(info.scan)
    return out


def findings_summary(state: ScanState) -> dict[str, Any]:
    """imageScanFindingsSummary: when the scan finished, DB age, counts per severity."""
    summary: dict[str, Any] = {"findingSeverityCounts": dict(state.severity_counts)}
    if state.completed_at is not None:
        summary["imageScanCompletedAt"] = state.completed_at
    if state.vulndb_updated_at is not None:
        summary["vulnerabilitySourceUpdatedAt"] = state.vulndb_updated_at
    return summary


def resource_tags(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Tag list with ECR's capitalised keys."""
    return [{"Key": k, "Value": v} for k, v in pairs]


def tag_pairs(raw: list[dict[str, Any]] | None) -> list[tuple[str, str]]:
    """Tag list → (key, value) pairs (members already validated as present strings)."""
    return [(str(item["Key"]), str(item["Value"])) for item in raw or []]


def exclusion_patterns(mutability: str, raw: list[dict[str, Any]] | None) -> tuple[str, ...]:
    """Exclusion filters, allowed only (and then required) with the *_WITH_EXCLUSION modes."""
    patterns = tuple(str(item["filter"]) for item in raw or [])
    with_exclusion = mutability.endswith("_WITH_EXCLUSION")
    if with_exclusion and not patterns:
        msg = f"imageTagMutabilityExclusionFilters are required with {mutability}"
        raise EcrError("InvalidParameterException", msg)
    if patterns and not with_exclusion:
        msg = f"imageTagMutabilityExclusionFilters are not allowed with {mutability}"
        raise EcrError("InvalidParameterException", msg)
    return patterns
