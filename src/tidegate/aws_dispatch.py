"""One AWS API call from request to response: the steps the ECR (AWS JSON 1.1) and Inspector2
(REST-JSON) dispatchers share. Each API passes what differs between them as an `AwsApi`."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tidegate.auth.keys import AccessKey
from tidegate.auth.principal import Principal
from tidegate.auth.service import AuthService, signed_request
from tidegate.auth.sigv4 import SignatureProblem
from tidegate.config import Settings
from tidegate.errors import TidegateError
from tidegate.inputs import InputTooDeep, load_json
from tidegate.request_body import read_limited

# Both APIs answer on one port. ECR's largest modeled member is a 4 MiB manifest, and JSON
# escaping can roughly double it.
MAX_BODY = 10 * 1024 * 1024

C = TypeVar("C")


@dataclass(frozen=True, slots=True)
class Call(Generic[C]):
    """The operation a request names: its action, its handler and, on a REST route, the
    URI labels the route matched."""

    action: str
    handler: Callable[[C, dict[str, Any]], dict[str, Any]]
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WireError:
    """An error as one API sends it: `x-amzn-ErrorType`, HTTP status and JSON body."""

    type_name: str
    status: int
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AwsApi(Generic[C]):
    """What one API does its own way. The error factories return the API's own exception,
    which reaches the client through `error_of` like any other TidegateError.

    Build one as `X: AwsApi[Ctx] = AwsApi(...)`: calling `AwsApi[Ctx](...)` fails at import,
    since a frozen slots dataclass refuses the `__orig_class__` the subscripted call sets."""

    name: str  # in log messages: "ECR", "Inspector"
    log: logging.Logger  # the API module's, so log records keep their logger name
    content_type: str
    signing_service: str  # the SigV4 credential scope
    action_prefix: str  # IAM actions are `<action_prefix>:<Action>`
    find: Callable[[Request], Call[C]]  # raises the API's unknown-operation error
    refuse_signature: Callable[[SignatureProblem], TidegateError]
    too_large: Callable[[], TidegateError]
    too_deep: Callable[[InputTooDeep], TidegateError]
    unparsable: Callable[[str], TidegateError]  # given why the body is no JSON object
    validate: Callable[[str, dict[str, Any]], None]  # botocore's model; raises
    resources: Callable[[AuthService, str, dict[str, Any]], Sequence[str]]
    context: Callable[[Request, AccessKey | None, Principal | None], C]
    error_of: Callable[[TidegateError, Settings], WireError]
    internal_error: WireError  # the answer to an unexpected exception
    # Input members a REST route takes from its URI labels and query string.
    uri_params: Callable[[Request, Call[C]], dict[str, Any]] | None = None
    max_body: int = MAX_BODY


def _response(
    api: AwsApi[Any], payload: dict[str, Any], status: int, request_id: str, error: str | None
) -> Response:
    headers = {"x-amzn-RequestId": request_id}
    if error is not None:
        headers["x-amzn-ErrorType"] = error
    # orjson: a page of 1,000 enhanced findings is about 2 MB of JSON.
    return Response(
        orjson.dumps(payload), status_code=status, media_type=api.content_type, headers=headers
    )


async def _body(api: AwsApi[Any], request: Request) -> bytes:
    body = await read_limited(request, api.max_body)
    if body is None:
        raise api.too_large()
    return body


def _authenticate(api: AwsApi[Any], auth: AuthService, request: Request, body: bytes) -> AccessKey:
    signed = signed_request(request, body)
    try:
        return auth.verify_sigv4(signed, api.signing_service)
    except SignatureProblem as exc:
        raise api.refuse_signature(exc) from None


def _params(api: AwsApi[C], request: Request, call: Call[C], body: bytes) -> dict[str, Any]:
    try:
        params = load_json(body or b"{}")
    except InputTooDeep as exc:
        raise api.too_deep(exc) from None
    except ValueError:
        raise api.unparsable("the request body is not valid JSON") from None
    if not isinstance(params, dict):
        raise api.unparsable("the request body must be a JSON object")
    if api.uri_params is None:
        return params
    return {**params, **api.uri_params(request, call)}


def _authorize(
    api: AwsApi[Any],
    auth: AuthService,
    request: Request,
    principal: Principal,
    action: str,
    params: dict[str, Any],
) -> None:
    client = request.client.host if request.client else None
    context = auth.authorizer.context(principal, client, request.url.scheme == "https")
    for resource in api.resources(auth, action, params):
        auth.authorizer.require(principal, f"{api.action_prefix}:{action}", resource, context)


async def dispatch(api: AwsApi[C], request: Request) -> Response:
    """Handle one call of `api`; every response carries x-amzn-RequestId."""
    request_id = str(uuid.uuid4())
    settings: Settings = request.app.state.settings
    auth: AuthService = request.app.state.auth
    try:
        body = await _body(api, request)
        caller = None
        if settings.auth_enabled:
            caller = await run_in_threadpool(_authenticate, api, auth, request, body)
        call = api.find(request)
        params = _params(api, request, call, body)
        api.validate(call.action, params)
        principal = None
        if caller is not None:
            principal = auth.principal_of(caller)
            request.state.principal = principal
            await run_in_threadpool(_authorize, api, auth, request, principal, call.action, params)
        ctx = api.context(request, caller, principal)
        result = await run_in_threadpool(call.handler, ctx, params)
    except TidegateError as exc:
        error = api.error_of(exc, settings)
        if error.status >= 500:
            api.log.error("%s operation failed", api.name, exc_info=exc)
        return _response(api, error.body, error.status, request_id, error.type_name)
    except Exception:
        api.log.exception("unexpected error in the %s API", api.name)
        internal = api.internal_error
        return _response(api, internal.body, internal.status, request_id, internal.type_name)
    return _response(api, result, 200, request_id, None)
