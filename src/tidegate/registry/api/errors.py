"""ErrorCode → OCI error code and HTTP status, and the `{"errors": [...]}` envelope."""

from __future__ import annotations

import json
import logging

from starlette.responses import Response

from tidegate.errors import ErrorCode, TidegateError

log = logging.getLogger(__name__)

OCI_ERRORS: dict[ErrorCode, tuple[str, int]] = {
    ErrorCode.NAME_UNKNOWN: ("NAME_UNKNOWN", 404),
    ErrorCode.NAME_INVALID: ("NAME_INVALID", 400),
    ErrorCode.TAG_INVALID: ("TAG_INVALID", 400),
    ErrorCode.MANIFEST_UNKNOWN: ("MANIFEST_UNKNOWN", 404),
    ErrorCode.MANIFEST_INVALID: ("MANIFEST_INVALID", 400),
    ErrorCode.MANIFEST_BLOB_UNKNOWN: ("MANIFEST_BLOB_UNKNOWN", 400),
    ErrorCode.MANIFEST_TOO_LARGE: ("SIZE_INVALID", 413),
    ErrorCode.BLOB_UNKNOWN: ("BLOB_UNKNOWN", 404),
    ErrorCode.BLOB_UPLOAD_UNKNOWN: ("BLOB_UPLOAD_UNKNOWN", 404),
    ErrorCode.BLOB_UPLOAD_INVALID: ("BLOB_UPLOAD_INVALID", 416),
    ErrorCode.RANGE_INVALID: ("RANGE_INVALID", 416),
    ErrorCode.DIGEST_INVALID: ("DIGEST_INVALID", 400),
    ErrorCode.SIZE_INVALID: ("SIZE_INVALID", 400),
    # ECR answers an overwrite of an immutable tag on /v2/ with TAG_INVALID; clients show it.
    ErrorCode.TAG_IMMUTABLE: ("TAG_INVALID", 400),
    ErrorCode.REFERENCED_BY_INDEX: ("DENIED", 409),
    ErrorCode.UNSUPPORTED: ("UNSUPPORTED", 405),
    ErrorCode.UNAUTHORIZED: ("UNAUTHORIZED", 401),
    ErrorCode.DENIED: ("DENIED", 403),
    ErrorCode.RATE_LIMITED: ("TOOMANYREQUESTS", 429),
    ErrorCode.INVALID_PARAMETER: ("UNSUPPORTED", 400),
    ErrorCode.NOT_FOUND: ("NAME_UNKNOWN", 404),
    ErrorCode.SCAN_NOT_FOUND: ("NAME_UNKNOWN", 404),
    ErrorCode.STORAGE: ("UNKNOWN", 500),
    # Distribution's own code for a backend that is down (registry/api/errcode).
    ErrorCode.STORAGE_UNAVAILABLE: ("UNAVAILABLE", 503),
    # Conflicts with the registry's state are refusals, not malformed requests.
    ErrorCode.REPOSITORY_EXISTS: ("DENIED", 409),
    ErrorCode.CONFLICT: ("DENIED", 409),
    ErrorCode.REPOSITORY_NOT_EMPTY: ("DENIED", 409),
    ErrorCode.TOO_MANY_TAGS: ("DENIED", 400),
    ErrorCode.INVALID_RESOURCE_TAG: ("NAME_INVALID", 400),
    ErrorCode.LIFECYCLE_POLICY_NOT_FOUND: ("NAME_UNKNOWN", 404),
    ErrorCode.LIFECYCLE_PREVIEW_NOT_FOUND: ("NAME_UNKNOWN", 404),
    ErrorCode.SCAN_FAILED: ("UNKNOWN", 500),
    ErrorCode.UPDATE_FAILED: ("UNKNOWN", 500),
    ErrorCode.UPDATE_IN_PROGRESS: ("UNKNOWN", 503),
}


# 5xx errors whose message is written by us for clients (no internals): shown as is.
SAFE_MESSAGES = frozenset({ErrorCode.STORAGE_UNAVAILABLE})


def error_response(
    code: str,
    message: str,
    status: int,
    detail: object = None,
    headers: dict[str, str] | None = None,
) -> Response:
    entry: dict[str, object] = {"code": code, "message": message}
    if detail is not None:
        entry["detail"] = detail
    return Response(
        json.dumps({"errors": [entry]}),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def render(exc: TidegateError) -> Response:
    code, status = OCI_ERRORS[exc.code]
    if status >= 500 and exc.code not in SAFE_MESSAGES:
        log.exception("internal error", exc_info=exc)
        return error_response(code, "internal error", status, headers=exc.headers)
    return error_response(code, exc.message, status, exc.detail, exc.headers)
