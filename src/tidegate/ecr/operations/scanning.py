"""Scanning operations: registry/repository configuration, manual scans and findings."""

from __future__ import annotations

from typing import Any

from tidegate.ecr import pagination, shapes
from tidegate.ecr.context import EcrContext
from tidegate.ecr.errors import EcrError
from tidegate.engine import findings_view, notify, policy, scans
from tidegate.engine.policy import ScanningConfiguration, ScanRule
from tidegate.events.model import Origin
from tidegate.registry import images, metadata
from tidegate.registry import repositories as repos
from tidegate.states import SCANNED, ScanFrequency, ScanType


def _config_shape(config: ScanningConfiguration) -> dict[str, Any]:
    return {
        "scanType": config.scan_type.value,
        "rules": [
            {
                "scanFrequency": rule.frequency.value,
                "repositoryFilters": [
                    {"filter": f, "filterType": "WILDCARD"} for f in rule.filters
                ],
            }
            for rule in config.rules
        ],
    }


def _load(ctx: EcrContext) -> ScanningConfiguration:
    with ctx.registry.engine.connect() as conn:
        return policy.load_configuration(conn)


def put_registry_scanning_configuration(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    """PutRegistryScanningConfiguration (BASIC/ENHANCED, up to two rules)."""
    rules = tuple(
        ScanRule(
            ScanFrequency(r["scanFrequency"]),
            tuple(str(f["filter"]) for f in r["repositoryFilters"]),
        )
        for r in p.get("rules") or []
    )
    config = ScanningConfiguration(ScanType(p.get("scanType", ScanType.BASIC)), rules)
    try:
        with ctx.registry.engine.begin() as conn:
            before = policy.load_configuration(conn)
            policy.save_configuration(conn, config, ctx.registry.clock())
            origin = Origin(ctx.registry_id, ctx.settings.region)
            notify.scanning_changed(origin, conn, before, config)
    except policy.InvalidScanningConfiguration as exc:
        raise EcrError("ValidationException", exc.message) from None
    return {"registryScanningConfiguration": _config_shape(config)}


def get_registry_scanning_configuration(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    """GetRegistryScanningConfiguration (default BASIC with no rules)."""
    return {"registryId": ctx.registry_id, "scanningConfiguration": _config_shape(_load(ctx))}


def put_image_scanning_configuration(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    """PutImageScanningConfiguration: the repository's scanOnPush flag."""
    ctx.check_registry_id(p)
    flag = bool(p["imageScanningConfiguration"].get("scanOnPush", False))
    repo = repos.update_repository(ctx.registry, p["repositoryName"], scan_on_push=flag)
    return {
        "registryId": ctx.registry_id,
        "repositoryName": repo.name,
        "imageScanningConfiguration": {"scanOnPush": repo.scan_on_push},
    }


def batch_get_repository_scanning_configuration(
    ctx: EcrContext, p: dict[str, Any]
) -> dict[str, Any]:
    """Effective frequency and applied filters per repository; missing ones as failures."""
    config = _load(ctx)
    found: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    with ctx.registry.engine.connect() as conn:
        for name in dict.fromkeys(p["repositoryNames"]):
            repo = metadata.find_repo(conn, name)
            if repo is None:
                failures.append(
                    {
                        "repositoryName": name,
                        "failureCode": "REPOSITORY_NOT_FOUND",
                        "failureReason": "REPOSITORY_NOT_FOUND",
                    }
                )
                continue
            eff = policy.effective_scanning(config, repo.name, repo.scan_on_push)
            found.append(
                {
                    "repositoryArn": ctx.repository_arn(repo.name),
                    "repositoryName": repo.name,
                    "scanOnPush": repo.scan_on_push,
                    "scanFrequency": eff.frequency.value,
                    "appliedScanFilters": [
                        {"filter": f, "filterType": "WILDCARD"} for f in eff.applied_filters
                    ],
                }
            )
    return {"scanningConfigurations": found, "failures": failures}


def start_image_scan(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    """StartImageScan: a one-off scan, at most one per image per 24 h (on-push counts).

    Under ENHANCED, repositories scanned on push or continuously refuse it (as AWS does);
    MANUAL ones get a one-off enhanced scan.
    """
    ctx.check_registry_id(p)
    ref = shapes.image_ref(p["imageId"])
    repo, row = images.resolve_one(ctx.registry, p["repositoryName"], ref)
    with ctx.registry.engine.begin() as conn:
        state = scans.start_manual_scan(conn, repo, row)
    return {
        "registryId": ctx.registry_id,
        "repositoryName": repo.name,
        "imageId": shapes.image_id(images.ImageRef(row.digest, ref.tag)),
        "imageScanStatus": shapes.scan_status(state),
    }


def describe_image_scan_findings(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    """DescribeImageScanFindings: status, summary and one page of findings (worst first)."""
    ctx.check_registry_id(p)
    ref = shapes.image_ref(p["imageId"])
    repo, row, state = images.scan_state(ctx.registry, p["repositoryName"], ref)
    page = pagination.page_of("DescribeImageScanFindings", p)
    origin = Origin(ctx.registry_id, ctx.settings.region)
    found = findings_view.read_image_findings(
        ctx.registry.engine, repo, row, state.scan_type, origin, offset=page.offset, limit=page.size
    )
    findings: dict[str, Any] = {"findingSeverityCounts": dict(state.severity_counts)}
    if state.scan_type == ScanType.ENHANCED:
        findings["enhancedFindings"] = found.enhanced
    else:
        findings["findings"] = found.basic
    if state.completed_at is not None and state.status in SCANNED:
        findings["imageScanCompletedAt"] = state.completed_at
        if state.vulndb_updated_at is not None:
            findings["vulnerabilitySourceUpdatedAt"] = state.vulndb_updated_at
    out: dict[str, Any] = {
        "registryId": ctx.registry_id,
        "repositoryName": repo.name,
        "imageId": shapes.image_id(images.ImageRef(row.digest, ref.tag)),
        "imageScanStatus": shapes.scan_status(state),
        "imageScanFindings": findings,
    }
    if found.more:
        out["nextToken"] = pagination.token_for("DescribeImageScanFindings", page)
    return out


OPERATIONS = {
    "PutRegistryScanningConfiguration": put_registry_scanning_configuration,
    "GetRegistryScanningConfiguration": get_registry_scanning_configuration,
    "PutImageScanningConfiguration": put_image_scanning_configuration,
    "BatchGetRepositoryScanningConfiguration": batch_get_repository_scanning_configuration,
    "StartImageScan": start_image_scan,
    "DescribeImageScanFindings": describe_image_scan_findings,
}
