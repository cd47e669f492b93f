"""`POST /` with `X-Amz-Target`: AWS JSON 1.1 framing, SigV4, model validation, dispatch."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tidegate.auth.keys import AccessKey
from tidegate.auth.principal import Principal
from tidegate.auth.service import AuthService, signed_request
from tidegate.auth.sigv4 import SignatureProblem
from tidegate.config import Settings
from tidegate.ecr.context import EcrContext
from tidegate.ecr.errors import EcrError, ecr_error_of
from tidegate.ecr.operations import OPERATIONS
from tidegate.ecr.validation import target_prefix, validate_input
from tidegate.errors import TidegateError
from tidegate.inputs import InputTooDeep, load_json
from tidegate.request_body import read_limited

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/x-amz-json-1.1"
# The largest modeled member is a 4 MiB manifest; JSON escaping can roughly double it.
MAX_BODY = 10 * 1024 * 1024
# AWS's status for each authentication failure (botocore keys off __type, not the status).
_AUTH_STATUS = {
    "MissingAuthenticationTokenException": 403,
    "UnrecognizedClientException": 400,
    "InvalidSignatureException": 403,
    "IncompleteSignatureException": 400,
}


def _response(
    payload: dict[str, Any], status: int, request_id: str, error: str | None = None
) -> Response:
    headers = {"x-amzn-RequestId": request_id}
    if error is not None:
        headers["x-amzn-ErrorType"] = error
    # orjson: a page of 1,000 enhanced findings is about 2 MB of JSON.
    return Response(
        orjson.dumps(payload), status_code=status, media_type=CONTENT_TYPE, headers=headers
    )


def base_url(request: Request, settings: Settings) -> str:
    """scheme://host[:port] clients use to reach this server (public_url wins)."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    return f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"


async def _body(request: Request) -> bytes:
    body = await read_limited(request, MAX_BODY)
    if body is None:
        raise EcrError("SerializationException", "request body too large")
    return body


def _authenticate(auth: AuthService, request: Request, body: bytes) -> AccessKey:
    signed = signed_request(request, body)
    try:
        return auth.verify_sigv4(signed)
    except SignatureProblem as exc:
        raise EcrError(exc.kind, exc.message, status=_AUTH_STATUS.get(exc.kind, 400)) from None


def _operation(request: Request) -> str:
    target = request.headers.get("x-amz-target", "")
    prefix, _, action = target.partition(".")
    if prefix != target_prefix() or action not in OPERATIONS:
        raise EcrError("UnknownOperationException", f"Unknown operation {target or '(none)'}")
    return action


def _params(body: bytes) -> dict[str, Any]:
    try:
        params = load_json(body or b"{}")
    except InputTooDeep as exc:
        raise EcrError("InvalidParameterException", str(exc)) from None
    except ValueError:
        raise EcrError("SerializationException", "the request body is not valid JSON") from None
    if not isinstance(params, dict):
        raise EcrError("SerializationException", "the request body must be a JSON object")
    return params


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


def _authorize(
    auth: AuthService, request: Request, principal: Principal, action: str, params: dict[str, Any]
) -> None:
    client = request.client.host if request.client else None
    context = auth.authorizer.context(principal, client, request.url.scheme == "https")
    names = params.get("repositoryNames")
    if action == "DescribeRepositories" and isinstance(names, list) and names:
        # Each named repository is checked on its own ARN (its policy may grant it).
        for name in names:
            arn = auth.authorizer.repository_arn(str(name))
            auth.authorizer.require(principal, "ecr:DescribeRepositories", arn, context)
        return
    auth.authorizer.require(principal, f"ecr:{action}", resource_of(auth, action, params), context)


async def ecr_dispatch(request: Request) -> Response:
    """Handle one ECR API call; every response carries x-amzn-RequestId."""
    request_id = str(uuid.uuid4())
    settings: Settings = request.app.state.settings
    auth: AuthService = request.app.state.auth
    try:
        body = await _body(request)
        caller = None
        if settings.auth_enabled:
            caller = await run_in_threadpool(_authenticate, auth, request, body)
        action = _operation(request)
        params = _params(body)
        validate_input(action, params)
        principal = None
        if caller is not None:
            principal = auth.principal_of(caller)
            request.state.principal = principal
            await run_in_threadpool(_authorize, auth, request, principal, action, params)
        ctx = EcrContext(
            settings,
            request.app.state.registry,
            auth,
            caller,
            base_url(request, settings),
            principal,
        )
        result = await run_in_threadpool(OPERATIONS[action], ctx, params)
    except TidegateError as exc:
        type_name, status, message = ecr_error_of(exc, settings.registry_id)
        if status >= 500:
            log.error("ECR operation failed", exc_info=exc)
        return _response({"__type": type_name, "message": message}, status, request_id, type_name)
    except Exception:
        log.exception("unexpected error in the ECR API")
        error = {"__type": "ServerException", "message": "An internal error occurred."}
        return _response(error, 500, request_id, "ServerException")
    return _response(result, 200, request_id)
