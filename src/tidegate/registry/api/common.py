"""Helpers shared by the `/v2/` handlers: service access, auth hook, body reading, URLs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from tidegate.errors import ManifestTooLarge, SizeInvalid
from tidegate.request_body import read_limited

if TYPE_CHECKING:
    from tidegate.registry.service import RegistryService

T = TypeVar("T")

API_VERSION_HEADER = {"Docker-Distribution-API-Version": "registry/2.0"}


def service(request: Request) -> RegistryService:
    registry: RegistryService = request.app.state.registry
    return registry


async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a synchronous service call off the event loop."""
    return await run_in_threadpool(fn, *args, **kwargs)


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refusing more than `limit` bytes without buffering them."""
    body = await read_limited(request, limit)
    if body is None:
        msg = f"body exceeds the {limit}-byte limit"
        raise ManifestTooLarge(msg)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) != len(body):
        msg = f"Content-Length says {declared} bytes but {len(body)} arrived"
        raise SizeInvalid(msg)
    return body


def upload_location(name: str, upload_id: str) -> str:
    return f"/v2/{name}/blobs/uploads/{upload_id}"


def range_header(offset: int) -> str:
    return f"0-{max(offset - 1, 0)}"
