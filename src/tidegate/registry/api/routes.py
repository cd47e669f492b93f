"""The `/v2/` route table: it reads like the distribution spec's endpoint list."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response

from tidegate.access import authorize
from tidegate.errors import NameUnknown, TidegateError, Unsupported
from tidegate.metrics.instruments import ROUTE_SCOPE_KEY
from tidegate.registry.api import blobs, listing, manifests, uploads
from tidegate.registry.api.common import API_VERSION_HEADER
from tidegate.registry.api.errors import error_response, render

log = logging.getLogger(__name__)

Handler = Callable[..., Awaitable[Response]]


class V2PathConvertor(Convertor[str]):
    """Everything after `/v2/`, newlines included.

    Starlette's `path` convertor is `.*`, which stops at a newline: `/v2/a/b/referrers/%0A`
    would miss the route and get Starlette's plain-text 404 instead of the OCI envelope.
    """

    regex = "(?s:.*)"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("v2path", V2PathConvertor())

_NAME = r"(?P<name>.+?)"
_REF = r"(?P<reference>[^/]+)"
_DIGEST = r"(?P<digest>[^/]+)"
_UUID = r"(?P<upload_id>[^/]+)"

ROUTES: list[tuple[re.Pattern[str], dict[str, Handler]]] = [
    (re.compile(r"^_catalog\Z"), {"GET": listing.catalog}),
    (re.compile(rf"^{_NAME}/tags/list\Z"), {"GET": listing.list_tags}),
    (re.compile(rf"^{_NAME}/referrers/{_DIGEST}\Z"), {"GET": listing.referrers}),
    (
        re.compile(rf"^{_NAME}/manifests/{_REF}\Z"),
        {
            "GET": manifests.get_manifest,
            "HEAD": manifests.get_manifest,
            "PUT": manifests.put_manifest,
            "DELETE": manifests.delete_manifest,
        },
    ),
    (re.compile(rf"^{_NAME}/blobs/uploads/?\Z"), {"POST": uploads.start_upload}),
    (
        re.compile(rf"^{_NAME}/blobs/uploads/{_UUID}\Z"),
        {
            "GET": uploads.get_upload,
            "PATCH": uploads.patch_upload,
            "PUT": uploads.put_upload,
            "DELETE": uploads.delete_upload,
        },
    ),
    (
        re.compile(rf"^{_NAME}/blobs/{_DIGEST}\Z"),
        {"GET": blobs.get_blob, "HEAD": blobs.get_blob, "DELETE": blobs.delete_blob},
    ),
]


# The route template each pattern answers, for metrics labels.
TEMPLATES = [
    "/v2/_catalog",
    "/v2/{name}/tags/list",
    "/v2/{name}/referrers/{digest}",
    "/v2/{name}/manifests/{reference}",
    "/v2/{name}/blobs/uploads/",
    "/v2/{name}/blobs/uploads/{uuid}",
    "/v2/{name}/blobs/{digest}",
]


async def base(request: Request) -> Response:
    """`GET /v2/`: the API version check, and where clients learn how to authenticate."""
    await authorize(request, None, "base")
    return Response("{}", media_type="application/json", headers=API_VERSION_HEADER)


def _match(
    path: str, method: str, scope: MutableMapping[str, Any]
) -> tuple[Handler, dict[str, Any]]:
    for (pattern, handlers), template in zip(ROUTES, TEMPLATES, strict=True):
        match = pattern.match(path)
        if match is None:
            continue
        scope[ROUTE_SCOPE_KEY] = template
        handler = handlers.get(method)
        if handler is None:
            msg = f"{method} is not supported on this endpoint"
            raise Unsupported(msg)
        return handler, match.groupdict()
    raise NameUnknown(f"no endpoint at /v2/{path}")


async def dispatch(request: Request) -> Response:
    """Route everything below `/v2/`, rendering errors as the spec's envelope."""
    try:
        path = request.path_params["path"]
        if path == "":
            request.scope[ROUTE_SCOPE_KEY] = "/v2/"
            response = await base(request)
        else:
            handler, params = _match(path, request.method, request.scope)
            response = await handler(request, **params)
    except TidegateError as exc:
        response = render(exc)
    except Exception:  # a bug, never client input: the spec's envelope, and the traceback
        log.exception("unexpected error in the /v2/ API")
        response = error_response("UNKNOWN", "internal error", 500)
    response.headers.update(API_VERSION_HEADER)
    return response
