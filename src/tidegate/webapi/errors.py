"""ErrorCode → HTTP status of `/api/`, and the one handler that renders every error there.

`/api/` answers `{"error": <message>, "code": <ErrorCode value>}`; its table is its own so the
JSON API does not borrow the registry's OCI vocabulary.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from tidegate.errors import ErrorCode, TidegateError

log = logging.getLogger(__name__)

API_STATUS: dict[ErrorCode, int] = {
    ErrorCode.NAME_UNKNOWN: 404,
    ErrorCode.NAME_INVALID: 400,
    ErrorCode.TAG_INVALID: 400,
    ErrorCode.MANIFEST_UNKNOWN: 404,
    ErrorCode.MANIFEST_INVALID: 400,
    ErrorCode.MANIFEST_BLOB_UNKNOWN: 400,
    ErrorCode.MANIFEST_TOO_LARGE: 413,
    ErrorCode.BLOB_UNKNOWN: 404,
    ErrorCode.BLOB_UPLOAD_UNKNOWN: 404,
    ErrorCode.BLOB_UPLOAD_INVALID: 400,
    ErrorCode.RANGE_INVALID: 416,
    ErrorCode.DIGEST_INVALID: 400,
    ErrorCode.SIZE_INVALID: 400,
    ErrorCode.TAG_IMMUTABLE: 409,
    ErrorCode.REFERENCED_BY_INDEX: 409,
    ErrorCode.UNSUPPORTED: 400,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.DENIED: 403,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.INVALID_PARAMETER: 400,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.SCAN_NOT_FOUND: 404,
    ErrorCode.STORAGE: 500,
    ErrorCode.STORAGE_UNAVAILABLE: 503,
    ErrorCode.REPOSITORY_EXISTS: 409,
    ErrorCode.REPOSITORY_NOT_EMPTY: 409,
    ErrorCode.TOO_MANY_TAGS: 400,
    ErrorCode.INVALID_RESOURCE_TAG: 400,
    ErrorCode.LIFECYCLE_POLICY_NOT_FOUND: 404,
    ErrorCode.LIFECYCLE_PREVIEW_NOT_FOUND: 404,
    ErrorCode.SCAN_FAILED: 500,
    ErrorCode.UPDATE_FAILED: 500,
    ErrorCode.UPDATE_IN_PROGRESS: 503,
}


def json_response(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body, sort_keys=True), status, media_type="application/json")


def render(exc: TidegateError) -> Response:
    status = API_STATUS[exc.code]
    if status >= 500:
        log.error("internal error on /api/", exc_info=exc)
        return json_response({"error": "internal error"}, status)
    response = json_response({"error": exc.message, "code": exc.code.value}, status)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


Endpoint = Callable[[Request], Awaitable[Response]]


def handles_errors(endpoint: Endpoint) -> Endpoint:
    """Wrap an `/api/` endpoint so a `TidegateError` anywhere in it is rendered by `render`."""

    @functools.wraps(endpoint)
    async def wrapped(request: Request) -> Response:
        try:
            return await endpoint(request)
        except TidegateError as exc:
            return render(exc)

    return wrapped
