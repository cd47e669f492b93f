"""Paginated listings: tags, the catalog, and OCI 1.1 referrers."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from tidegate.access import authorize, visible_repositories
from tidegate.errors import InvalidParameter
from tidegate.inputs import ascii_decimal
from tidegate.oci import mediatypes
from tidegate.registry.api.common import call, service
from tidegate.registry.service import referrers_index

MAX_PAGE = 10_000


def _page_args(request: Request) -> tuple[int | None, str | None]:
    raw = request.query_params.get("n")
    last = request.query_params.get("last") or None
    if raw is None or raw == "":
        return None, last
    n = ascii_decimal(raw)
    if n is None:
        msg = f"n must be a non-negative integer, not {raw!r}"
        raise InvalidParameter(msg)
    return min(n, MAX_PAGE), last


def _paged(
    request: Request,
    path: str,
    key: str,
    items: list[str],
    limit: int | None,
    extra: dict[str, str],
) -> Response:
    headers: dict[str, str] = {}
    if limit is not None and len(items) > limit:
        items = items[:limit]
        if items:
            query = urlencode({"n": limit, "last": items[-1]})
            headers["Link"] = f'<{path}?{query}>; rel="next"'
    body = {**extra, key: items}
    return Response(json.dumps(body), media_type="application/json", headers=headers)


async def list_tags(request: Request, name: str) -> Response:
    await authorize(request, name, "pull")
    limit, last = _page_args(request)
    fetch = None if limit is None else limit + 1
    items = await call(service(request).tags, name, after=last, limit=fetch)
    if limit == 0:
        items = []
    return _paged(request, f"/v2/{name}/tags/list", "tags", items, limit, {"name": name})


async def catalog(request: Request) -> Response:
    await authorize(request, None, "catalog")
    limit, last = _page_args(request)
    # Filtered before paging, so a page holds `n` repositories the caller may see.
    items = await visible_repositories(
        request, await call(service(request).catalog, after=last, limit=None)
    )
    if limit is not None:
        items = items[: limit + 1]
    if limit == 0:
        items = []
    return _paged(request, "/v2/_catalog", "repositories", items, limit, {})


async def referrers(request: Request, name: str, digest: str) -> Response:
    await authorize(request, name, "pull")
    artifact_type = request.query_params.get("artifactType") or None
    descriptors = await call(service(request).referrers, name, digest, artifact_type)
    headers = {"OCI-Filters-Applied": "artifactType"} if artifact_type else {}
    return Response(referrers_index(descriptors), media_type=mediatypes.OCI_INDEX, headers=headers)
