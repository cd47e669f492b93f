"""Repository operations: Create/Describe/DeleteRepository, PutImageTagMutability, resource tags."""

from __future__ import annotations

from typing import Any

from tidegate.ecr import pagination, shapes
from tidegate.ecr.context import EcrContext
from tidegate.ecr.errors import EcrError
from tidegate.registry import repositories as repos
from tidegate.registry.repositories import RepositorySettings


def create_repository(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    """CreateRepository with mutability, exclusions, scanOnPush, encryption and tags."""
    ctx.check_registry_id(p)
    mutability = p.get("imageTagMutability", "MUTABLE")
    encryption = p.get("encryptionConfiguration") or {}
    enc_type = encryption.get("encryptionType", "AES256")
    if enc_type == "AES256" and encryption.get("kmsKey"):
        msg = "kmsKey may only be given with encryptionType KMS or KMS_DSSE"
        raise EcrError("InvalidParameterException", msg)
    settings = RepositorySettings(
        tag_mutability=mutability,
        mutability_exclusions=shapes.exclusion_patterns(
            mutability, p.get("imageTagMutabilityExclusionFilters")
        ),
        scan_on_push=bool((p.get("imageScanningConfiguration") or {}).get("scanOnPush", False)),
        encryption_type=enc_type,
        kms_key=encryption.get("kmsKey"),
    )
    repo = repos.create_repository(
        ctx.registry, p["repositoryName"], settings, shapes.tag_pairs(p.get("tags"))
    )
    ctx.auth.authorizer.forget_repository(repo.name)
    return {"repository": shapes.repository(ctx, repo)}


def describe_repositories(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    """DescribeRepositories by names (all must exist) or paginated over all."""
    ctx.check_registry_id(p)
    names = p.get("repositoryNames")
    if names is not None:
        if "maxResults" in p or "nextToken" in p:
            msg = "maxResults and nextToken cannot be used together with repositoryNames"
            raise EcrError("InvalidParameterException", msg)
        rows = repos.get_repositories(ctx.registry, names)
        return {"repositories": [shapes.repository(ctx, r) for r in rows]}
    page = pagination.page_of("DescribeRepositories", p)
    found = repos.page_repositories(ctx.registry, page.offset, page.size + 1)
    shown = [shapes.repository(ctx, r) for r in found]
    return pagination.response("DescribeRepositories", page, "repositories", shown)


def delete_repository(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    """DeleteRepository; `force` deletes the images too."""
    ctx.check_registry_id(p)
    repo = repos.delete_repository(ctx.registry, p["repositoryName"], force=bool(p.get("force")))
    ctx.auth.authorizer.forget_repository(repo.name)
    return {"repository": shapes.repository(ctx, repo)}


def put_image_tag_mutability(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    """PutImageTagMutability; IMMUTABLE then also refuses tag overwrites on /v2/."""
    ctx.check_registry_id(p)
    mutability = p["imageTagMutability"]
    patterns = shapes.exclusion_patterns(mutability, p.get("imageTagMutabilityExclusionFilters"))
    repo = repos.update_repository(
        ctx.registry,
        p["repositoryName"],
        tag_mutability=mutability,
        mutability_exclusions=patterns,
    )
    out: dict[str, Any] = {
        "registryId": ctx.registry_id,
        "repositoryName": repo.name,
        "imageTagMutability": repo.tag_mutability,
    }
    if patterns:
        out["imageTagMutabilityExclusionFilters"] = shapes.exclusion_filters(patterns)
    return out


def tag_resource(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    """TagResource on a repository ARN."""
    name = ctx.repository_from_arn(p["resourceArn"])
    repos.tag_repository(ctx.registry, name, shapes.tag_pairs(p["tags"]))
    ctx.auth.authorizer.forget_repository(name)
    return {}


def untag_resource(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    """UntagResource on a repository ARN."""
    name = ctx.repository_from_arn(p["resourceArn"])
    repos.untag_repository(ctx.registry, name, [str(k) for k in p["tagKeys"]])
    ctx.auth.authorizer.forget_repository(name)
    return {}


def list_tags_for_resource(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    """ListTagsForResource on a repository ARN."""
    name = ctx.repository_from_arn(p["resourceArn"])
    return {"tags": shapes.resource_tags(repos.list_resource_tags(ctx.registry, name))}


OPERATIONS = {
    "CreateRepository": create_repository,
    "DescribeRepositories": describe_repositories,
    "DeleteRepository": delete_repository,
    "PutImageTagMutability": put_image_tag_mutability,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}
