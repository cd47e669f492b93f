"""Lifecycle policy operations: Put/Get/DeleteLifecyclePolicy and the policy preview."""

from __future__ import annotations

import time
from typing import Any

from tidegate.ecr import pagination
from tidegate.ecr.context import EcrContext
from tidegate.ecr.errors import EcrError
from tidegate.registry import lifecycle


def _base(ctx: EcrContext, name: str, text: str) -> dict[str, Any]:
    return {"registryId": ctx.registry_id, "repositoryName": name, "lifecyclePolicyText": text}


def _stored(ctx: EcrContext, stored: lifecycle.StoredPolicy) -> dict[str, Any]:
    out = _base(ctx, stored.repo.name, stored.text)
    if stored.evaluated_at is not None:
        out["lastEvaluatedAt"] = stored.evaluated_at
    return out


def put_lifecycle_policy(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    """PutLifecyclePolicy: validate and store; the server applies it within the hour."""
    ctx.check_registry_id(p)
    repo = lifecycle.put_policy(ctx.registry, p["repositoryName"], p["lifecyclePolicyText"])
    return _base(ctx, repo.name, p["lifecyclePolicyText"])


def get_lifecycle_policy(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    ctx.check_registry_id(p)
    return _stored(ctx, lifecycle.get_policy(ctx.registry, p["repositoryName"]))


def delete_lifecycle_policy(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    ctx.check_registry_id(p)
    return _stored(ctx, lifecycle.delete_policy(ctx.registry, p["repositoryName"]))


def start_lifecycle_policy_preview(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    """StartLifecyclePolicyPreview: the given policy, else the repository's own.

    The preview is computed when it is read, so it is COMPLETE at once.
    """
    ctx.check_registry_id(p)
    repo, text = lifecycle.start_preview(
        ctx.registry, p["repositoryName"], p.get("lifecyclePolicyText")
    )
    return {**_base(ctx, repo.name, text), "status": "IN_PROGRESS"}


def get_lifecycle_policy_preview(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    """GetLifecyclePolicyPreview: the images the policy would expire now, newest first."""
    ctx.check_registry_id(p)
    ids = p.get("imageIds")
    if ids is not None and ("maxResults" in p or "nextToken" in p):
        msg = "maxResults and nextToken cannot be used together with imageIds"
        raise EcrError("InvalidParameterException", msg)
    result = lifecycle.preview(ctx.registry, p["repositoryName"], time.time())
    items = sorted(result.expiring, key=lambda e: (-e[0].pushed_at, e[0].digest))
    tag_status = (p.get("filter") or {}).get("tagStatus", "ANY")
    if tag_status == "TAGGED":
        items = [e for e in items if e[0].tags]
    elif tag_status == "UNTAGGED":
        items = [e for e in items if not e[0].tags]
    if ids is not None:
        digests = {i.get("imageDigest") for i in ids}
        tags = {i.get("imageTag") for i in ids}
        items = [e for e in items if e[0].digest in digests or tags & set(e[0].tags)]
    page = pagination.page_of("GetLifecyclePolicyPreview", p)
    shown = [
        {
            **({"imageTags": list(image.tags)} if image.tags else {}),
            "imageDigest": image.digest,
            "imagePushedAt": image.pushed_at,
            "action": {"type": "EXPIRE"},
            "appliedRulePriority": priority,
        }
        for image, priority in items[page.offset : page.offset + page.size + 1]
    ]
    return {
        **_base(ctx, result.repo.name, result.text),
        "status": "COMPLETE",
        "summary": {"expiringImageTotalCount": len(result.expiring)},
        **pagination.response("GetLifecyclePolicyPreview", page, "previewResults", shown),
    }


OPERATIONS = {
    "PutLifecyclePolicy": put_lifecycle_policy,
    "GetLifecyclePolicy": get_lifecycle_policy,
    "DeleteLifecyclePolicy": delete_lifecycle_policy,
    "StartLifecyclePolicyPreview": start_lifecycle_policy_preview,
    "GetLifecyclePolicyPreview": get_lifecycle_policy_preview,
}
