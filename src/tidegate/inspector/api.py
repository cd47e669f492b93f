"""Inspector2 REST-JSON on the ECR API's host and port: each modeled `requestUri` is a route.
What Inspector does its own way in the shared AWS call (`aws_dispatch`): the route table, SigV4
scoped to `inspector2`, ValidationException for a bad body, `inspector2:` on any resource."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tidegate.auth.keys import AccessKey
from tidegate.auth.principal import Principal
from tidegate.auth.service import AuthService
from tidegate.auth.sigv4 import SignatureProblem
from tidegate.aws_dispatch import AwsApi, Call, WireError, dispatch
from tidegate.config import Settings
from tidegate.engine.finding_criteria import CriteriaInvalid
from tidegate.errors import ErrorCode, TidegateError
from tidegate.inputs import InputTooDeep
from tidegate.inspector.errors import InspectorError, invalid
from tidegate.inspector.model import (
    LABEL_RE,
    SERVICE,
    route_of,
    routes,
    uri_params,
    validate_input,
)
from tidegate.inspector.operations import OPERATIONS, InspectorContext

log = logging.getLogger(__name__)

_AUTH_TYPES = {
    "MissingAuthenticationTokenException": 403,
    "UnrecognizedClientException": 403,
    "InvalidSignatureException": 403,
    "IncompleteSignatureException": 403,
}


def _find(request: Request) -> Call[InspectorContext]:
    found = route_of(request.method, request.scope["path"])
    action, labels = found if found is not None else (None, {})
    handler = OPERATIONS.get(action or "")
    if action is None or handler is None:
        raise InspectorError(
            "ValidationException", f"Tidegate does not implement {action or 'this route'}"
        )
    return Call(action, handler, labels)


def _uri_params(request: Request, call: Call[InspectorContext]) -> dict[str, Any]:
    query: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        query.setdefault(key, []).append(value)
    return uri_params(call.action, call.labels, query)


def _refuse_signature(exc: SignatureProblem) -> InspectorError:
    return InspectorError(exc.kind, exc.message, status=_AUTH_TYPES.get(exc.kind, 403))


def _too_large() -> InspectorError:
    return InspectorError("ValidationException", "request body too large")


def _unparsable(message: str) -> InspectorError:
    return InspectorError("ValidationException", message, reason="CANNOT_PARSE")


def _too_deep(_exc: InputTooDeep) -> InspectorError:
    return _unparsable("the request body is not valid JSON")


def _resources(_auth: AuthService, _action: str, _params: dict[str, Any]) -> list[str]:
    return ["*"]


def _context(
    request: Request, _caller: AccessKey | None, principal: Principal | None
) -> InspectorContext:
    return InspectorContext(request.app.state.settings, request.app.state.registry, principal)


def _inspector_error_of(exc: TidegateError) -> InspectorError:
    if isinstance(exc, InspectorError):
        return exc
    if isinstance(exc, CriteriaInvalid):
        return invalid(exc.field, exc.reason)
    if exc.code is ErrorCode.DENIED:
        return InspectorError("AccessDeniedException", exc.message)
    if exc.code in (ErrorCode.NAME_UNKNOWN, ErrorCode.MANIFEST_UNKNOWN, ErrorCode.NOT_FOUND):
        return InspectorError("ResourceNotFoundException", exc.message)
    if exc.code is ErrorCode.CONFLICT:
        members = exc.detail if isinstance(exc.detail, dict) else None
        return InspectorError("ConflictException", exc.message, members=members)
    if exc.code is ErrorCode.STORAGE:
        return InspectorError("InternalServerException", "An internal error occurred.")
    return InspectorError("ValidationException", exc.message)


def _error_of(exc: TidegateError, _settings: Settings) -> WireError:
    error = _inspector_error_of(exc)
    return WireError(error.type_name, error.status, error.body())


INSPECTOR_API: AwsApi[InspectorContext] = AwsApi(
    name="Inspector",
    log=log,
    content_type="application/json",
    signing_service=SERVICE,
    action_prefix="inspector2",
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
        "InternalServerException", 500, {"message": "An internal error occurred."}
    ),
    uri_params=_uri_params,
)


async def inspector_dispatch(request: Request) -> Response:
    """Handle one Inspector2 call; every response carries x-amzn-RequestId."""
    return await dispatch(INSPECTOR_API, request)


def inspector_routes() -> list[Route]:
    """One route per modeled request URI. A `{label}` becomes a Starlette `path` parameter
    only to reach the dispatcher, which matches the URI itself (`model.route_of`), so the
    audit middleware and the dispatcher agree on which operation a request is."""
    methods: dict[str, set[str]] = {}
    for method, path in routes():
        methods.setdefault(LABEL_RE.sub(r"{\1:path}", path), set()).add(method)
    endpoint: Callable[[Request], Any] = inspector_dispatch
    return [Route(path, endpoint, methods=sorted(m)) for path, m in sorted(methods.items())]
