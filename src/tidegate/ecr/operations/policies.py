"""Repository and registry policies: Set/Get/DeleteRepositoryPolicy, Put/Get/DeleteRegistryPolicy.

Documents are validated with the IAM grammar (auth.policy) before anything is stored, so a
refused document changes nothing; the stored text is returned verbatim as ECR does.
"""

from __future__ import annotations

from typing import Any

from tidegate.auth.actions import known_actions
from tidegate.auth.policy import Decision, PolicyError, parse_policy
from tidegate.ecr.context import EcrContext
from tidegate.ecr.errors import EcrError


def _validated(ctx: EcrContext, text: str, kind: str) -> Any:
    try:
        return parse_policy(text, resource_policy=True, known_actions=known_actions())
    except PolicyError as exc:
        msg = (
            "Invalid parameter at 'PolicyText' failed to satisfy constraint: "
            f"'Invalid {kind} policy provided': {exc}"
        )
        raise EcrError("InvalidParameterException", msg) from None


def set_repository_policy(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    ctx.check_registry_id(p)
    name, text = p["repositoryName"], p["policyText"]
    policy = _validated(ctx, text, "repository")
    principal = ctx.principal
    if principal is not None and not p.get("force", False):
        # ECR: a policy that would stop the caller from setting the next one needs `force`.
        arn = ctx.repository_arn(name)
        decision = ctx.auth.authorizer.authorize(
            principal, "ecr:SetRepositoryPolicy", arn, extra_resource_policies=[policy]
        )
        if decision is Decision.EXPLICIT_DENY:
            msg = (
                "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'the policy "
                f"would deny {principal.arn} ecr:SetRepositoryPolicy on {arn}; set force to "
                "apply it anyway'"
            )
            raise EcrError("InvalidParameterException", msg)
    ctx.auth.resource_policies.set_repository_policy(name, text)
    ctx.auth.authorizer.forget_resource_policy(name)
    return {"registryId": ctx.registry_id, "repositoryName": name, "policyText": text}


def _no_repository_policy(ctx: EcrContext, name: str) -> EcrError:
    return EcrError(
        "RepositoryPolicyNotFoundException",
        f"Repository policy does not exist for the repository with name '{name}' in the "
        f"registry with id '{ctx.registry_id}'",
    )


def get_repository_policy(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    ctx.check_registry_id(p)
    name = p["repositoryName"]
    text = ctx.auth.resource_policies.repository_policy(name)
    if text is None:
        raise _no_repository_policy(ctx, name)
    return {"registryId": ctx.registry_id, "repositoryName": name, "policyText": text}


def delete_repository_policy(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    ctx.check_registry_id(p)
    name = p["repositoryName"]
    text = ctx.auth.resource_policies.delete_repository_policy(name)
    ctx.auth.authorizer.forget_resource_policy(name)
    if text is None:
        raise _no_repository_policy(ctx, name)
    return {"registryId": ctx.registry_id, "repositoryName": name, "policyText": text}


def put_registry_policy(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    text = p["policyText"]
    _validated(ctx, text, "registry")
    ctx.auth.resource_policies.set_registry_policy(ctx.registry_id, text)
    ctx.auth.authorizer.forget_resource_policy(None)
    return {"registryId": ctx.registry_id, "policyText": text}


def _no_registry_policy(ctx: EcrContext) -> EcrError:
    return EcrError(
        "RegistryPolicyNotFoundException",
        f"Registry policy does not exist in the registry with id '{ctx.registry_id}'",
    )


def get_registry_policy(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    text = ctx.auth.resource_policies.registry_policy(ctx.registry_id)
    if text is None:
        raise _no_registry_policy(ctx)
    return {"registryId": ctx.registry_id, "policyText": text}


def delete_registry_policy(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    text = ctx.auth.resource_policies.delete_registry_policy(ctx.registry_id)
    ctx.auth.authorizer.forget_resource_policy(None)
    if text is None:
        raise _no_registry_policy(ctx)
    return {"registryId": ctx.registry_id, "policyText": text}


OPERATIONS = {
    "SetRepositoryPolicy": set_repository_policy,
    "GetRepositoryPolicy": get_repository_policy,
    "DeleteRepositoryPolicy": delete_repository_policy,
    "PutRegistryPolicy": put_registry_policy,
    "GetRegistryPolicy": get_registry_policy,
    "DeleteRegistryPolicy": delete_registry_policy,
}
