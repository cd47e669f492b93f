"""Inspector2 REST-JSON on the ECR API's host and port: each modeled `requestUri` is a route;
SigV4 scoped to `inspector2`, model validation, `inspector2:` authorization, dispatch."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tidegate.auth.service import AuthService, signed_request
from tidegate.auth.sigv4 import SignatureProblem
from tidegate.config import Settings
from tidegate.ecr.api import MAX_BODY
from tidegate.engine.finding_criteria import CriteriaInvalid
from tidegate.errors import ErrorCode, TidegateError
from tidegate.inputs import InputTooDeep, load_json
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
from tidegate.request_body import read_limited

log = logging.getLogger(__name__)

_AUTH_TYPES = {
    "MissingAuthenticationTokenException": 403,
    "UnrecognizedClientException": 403,
    "InvalidSignatureException": 403,
    "IncompleteSignatureException": 403,
}


def _response(payload: dict[str, Any], status: int, request_id: str, error: str | None) -> Response:
    headers = {"x-amzn-RequestId": request_id}
    if error is not None:
        headers["x-amzn-ErrorType"] = error
    return Response(orjson.dumps(payload), status_code=status,
                    media_type="application/json", headers=headers)  # fmt: skip


async def _body(request: Request) -> bytes:
    body = await read_limited(request, MAX_BODY)
    if body is None:
        raise InspectorError("ValidationException", "request body too large")
    return body


def _params(body: bytes) -> dict[str, Any]:
    try:
        params = load_json(body or b"{}")
    except (InputTooDeep, ValueError):
        raise InspectorError(
            "ValidationException", "the request body is not valid JSON", reason="CANNOT_PARSE"
        ) from None
    if not isinstance(params, dict):
        raise InspectorError(
            "ValidationException", "the request body must be a JSON object", reason="CANNOT_PARSE"
        )
    return params


def _authenticate(auth: AuthService, request: Request, body: bytes) -> Any:
    signed = signed_request(request, body)
    try:
        return auth.verify_sigv4(signed, SERVICE)
    except SignatureProblem as exc:
        raise InspectorError(exc.kind, exc.message, status=_AUTH_TYPES.get(exc.kind, 403)) from None


def _error_of(exc: TidegateError) -> InspectorError:
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


async def inspector_dispatch(request: Request) -> Response:
    """Handle one Inspector2 call; every response carries x-amzn-RequestId."""
    request_id = str(uuid.uuid4())
    settings: Settings = request.app.state.settings
    auth: AuthService = request.app.state.auth
    try:
        body = await _body(request)
        caller = None
        if settings.auth_enabled:
            caller = await run_in_threadpool(_authenticate, auth, request, body)
        found = route_of(request.method, request.scope["path"])
        action, labels = found if found is not None else (None, {})
        handler = OPERATIONS.get(action or "")
        if action is None or handler is None:
            raise InspectorError(
                "ValidationException", f"Tidegate does not implement {action or 'this route'}"
            )
        query: dict[str, list[str]] = {}
        for key, value in request.query_params.multi_items():
            query.setdefault(key, []).append(value)
        params = {**_params(body), **uri_params(action, labels, query)}
        validate_input(action, params)
        principal = None
        if caller is not None:
            principal = auth.principal_of(caller)
            request.state.principal = principal
            client = request.client.host if request.client else None
            context = auth.authorizer.context(principal, client, request.url.scheme == "https")
            await run_in_threadpool(
                auth.authorizer.require, principal, f"inspector2:{action}", "*", context
            )
        ctx = InspectorContext(settings, request.app.state.registry, principal)
        result = await run_in_threadpool(handler, ctx, params)
    except TidegateError as exc:
        error = _error_of(exc)
        if error.status >= 500:
            log.error("Inspector operation failed", exc_info=exc)
        return _response(error.body(), error.status, request_id, error.type_name)
    except Exception:
        log.exception("unexpected error in the Inspector API")
        return _response({"message": "An internal error occurred."}, 500, request_id,
                         "InternalServerException")  # fmt: skip
    return _response(result, 200, request_id, None)


def inspector_routes() -> list[Route]:
    """One route per modeled request URI. A `{label}` becomes a Starlette `path` parameter
    only to reach the dispatcher, which matches the URI itself (`model.route_of`), so the
    audit middleware and the dispatcher agree on which operation a request is."""
    methods: dict[str, set[str]] = {}
    for method, path in routes():
        methods.setdefault(LABEL_RE.sub(r"{\1:path}", path), set()).add(method)
    endpoint: Callable[[Request], Any] = inspector_dispatch
    return [Route(path, endpoint, methods=sorted(m)) for path, m in sorted(methods.items())]
