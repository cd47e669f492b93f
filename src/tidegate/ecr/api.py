"""`POST /` with `X-Amz-Target`: what the ECR API does its own way in the shared AWS call
(`aws_dispatch`): the target header, the AWS JSON 1.1 error vocabulary, per-name checks."""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tidegate.auth.keys import AccessKey
from tidegate.auth.principal import Principal
from tidegate.auth.service import SIGNING_SERVICE, AuthService
from tidegate.auth.sigv4 import SignatureProblem
from tidegate.aws_dispatch import AwsApi, Call, WireError, dispatch
from tidegate.config import Settings
from tidegate.ecr.context import EcrContext
from tidegate.ecr.errors import EcrError, ecr_error_of
from tidegate.ecr.operations import OPERATIONS
from tidegate.ecr.validation import target_prefix, validate_input
from tidegate.errors import TidegateError
from tidegate.inputs import InputTooDeep

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/x-amz-json-1.1"
# AWS's status for each authentication failure (botocore keys off __type, not the status).
_AUTH_STATUS = {
    "MissingAuthenticationTokenException": 403,
    "UnrecognizedClientException": 400,
    "InvalidSignatureException": 403,
    "IncompleteSignatureException": 400,
}


def base_url(request: Request, settings: Settings) -> str:
    """scheme://host[:port] clients use to reach this server (public_url wins)."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    return f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"


def _find(request: Request) -> Call[EcrContext]:
    target = request.headers.get("x-amz-target", "")
    prefix, _, action = target.partition(".")
    if prefix != target_prefix() or action not in OPERATIONS:
        raise EcrError("UnknownOperationException", f"Unknown operation {target or '(none)'}")
    return Call(action, OPERATIONS[action])


def _refuse_signature(exc: SignatureProblem) -> EcrError:
    return EcrError(exc.kind, exc.message, status=_AUTH_STATUS.get(exc.kind, 400))


def _too_large() -> EcrError:
    return EcrError("SerializationException", "request body too large")


def _too_deep(exc: InputTooDeep) -> EcrError:
    return EcrError("InvalidParameterException", str(exc))


def _unparsable(message: str) -> EcrError:
    return EcrError("SerializationException", message)


def resource_of(auth: AuthService, action: str, params: dict[str, Any]) -> str:
    """The ARN an operation acts on, as ECR's authorization reference lists it."""
    name = params.get("repositoryName")
    if isinstance(name, str):
        return auth.authorizer.repository_arn(name)
    arn = params.get("resourceArn")
    if isinstance(arn, str):
        return arn
    if action == "DescribeRepositories":
        return auth.authorizer.repository_arn("*")
    return "*"  # registry-level actions (GetAuthorizationToken, DescribeRegistry, ...)


def _resources(auth: AuthService, action: str, params: dict[str, Any]) -> list[str]:
    names = params.get("repositoryNames")
    if action == "DescribeRepositories" and isinstance(names, list) and names:
        # Each named repository is checked on its own ARN (its policy may grant it).
        return [auth.authorizer.repository_arn(str(name)) for name in names]
    return [resource_of(auth, action, params)]


def _context(request: Request, caller: AccessKey | None, principal: Principal | None) -> EcrContext:
    settings: Settings = request.app.state.settings
    return EcrContext(
        settings,
        request.app.state.registry,
        request.app.state.auth,
        caller,
        base_url(request, settings),
        principal,
    )


def _error_of(exc: TidegateError, settings: Settings) -> WireError:
    type_name, status, message = ecr_error_of(exc, settings.registry_id)
    return WireError(type_name, status, {"__type": type_name, "message": message})


ECR_API: AwsApi[EcrContext] = AwsApi(
    name="ECR",
    log=log,
    content_type=CONTENT_TYPE,
    signing_service=SIGNING_SERVICE,
    action_prefix="ecr",
    find=_find,
    refuse_signature=_refuse_signature,
    too_large=_too_large,
    too_deep=_too_deep,
    unparsable=_unparsable,
    validate=validate_input,
    resources=_resources,
    context=_context,
    error_of=_error_of,
    internal_error=WireError(
        "ServerException",
        500,
        {"__type": "ServerException", "message": "An internal error occurred."},
    ),
)


async def ecr_dispatch(request: Request) -> Response:
    """Handle one ECR API call; every response carries x-amzn-RequestId."""
    return await dispatch(ECR_API, request)
