"""Blob uploads: POST (start, monolithic, mount), PATCH chunks, PUT to finish, GET, DELETE."""

from __future__ import annotations

import re
from collections.abc import Awaitable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tidegate.access import authorize
from tidegate.errors import BlobUploadInvalid, DigestInvalid, SizeInvalid
from tidegate.oci.digest import parse_digest
from tidegate.registry.api.common import (
    call,
    range_header,
    service,
    upload_location,
)
from tidegate.registry.uploads import Appender, UploadState

_CONTENT_RANGE_RE = re.compile(r"^(?:bytes[= ])?(\d+)-(\d+)(?:/\d+|/\*)?$")


def _content_range(request: Request) -> tuple[int, int] | None:
    header = request.headers.get("content-range")
    if header is None:
        return None
    match = _CONTENT_RANGE_RE.match(header.strip())
    if match is None:
        msg = f"malformed Content-Range {header!r}"
        raise BlobUploadInvalid(msg)
    start, end = int(match.group(1)), int(match.group(2))
    if end < start:
        raise BlobUploadInvalid(f"Content-Range {header!r} ends before it starts")
    return start, end


def _declared_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    if value is None:
        return None
    if not value.isdigit():
        raise SizeInvalid(f"invalid Content-Length {value!r}")
    return int(value)


async def _append_body(request: Request, appender: Appender) -> None:
    """Stream the body into the upload; on any failure the bytes are dropped, not acked."""
    uploads = service(request).uploads
    try:
        async for chunk in request.stream():
            if not chunk:
                continue
            if appender.blocking:  # a store on the network: parts go out from a thread
                await run_in_threadpool(appender.write, chunk)
            else:
                appender.write(chunk)
        expected = _declared_length(request)
        if expected is not None and appender.written != expected:
            msg = f"Content-Length says {expected} bytes but {appender.written} arrived"
            raise SizeInvalid(msg)
    except BaseException:
        await run_in_threadpool(uploads.abort, appender)
        raise


async def _receive(request: Request, appender: Appender) -> UploadState:
    """Append the request body to the upload and acknowledge it durably."""
    await _append_body(request, appender)
    return await call(service(request).uploads.ack, appender)


def _accepted(name: str, state: UploadState) -> Response:
    return Response(
        status_code=202,
        headers={
            "Location": upload_location(name, state.id),
            "Range": range_header(state.offset),
            "Docker-Upload-UUID": state.id,
            "Content-Length": "0",
        },
    )


def _created(name: str, digest: str) -> Response:
    return Response(
        status_code=201,
        headers={
            "Location": f"/v2/{name}/blobs/{digest}",
            "Docker-Content-Digest": digest,
            "Content-Length": "0",
        },
    )


async def start_upload(request: Request, name: str) -> Response:
    await authorize(request, name, "push")
    registry = service(request)
    mount = request.query_params.get("mount")
    source = request.query_params.get("from")
    if mount and source:
        await authorize(request, source, "pull")
        if await call(registry.mount_blob, name, source, mount):
            return _created(name, mount)
    digest = request.query_params.get("digest")
    if digest is None:
        return _accepted(name, await call(registry.start_upload, name))
    parsed = parse_digest(digest)
    rng = _content_range(request)
    appender = await call(registry.start_appending, name, rng[0] if rng else None)
    return await _finish(request, name, appender, parsed)


async def _finish(request: Request, name: str, appender: Appender, digest: str) -> Response:
    await _append_body(request, appender)
    await call(service(request).uploads.finish, appender, parse_digest(digest), None)
    return _created(name, digest)


def _open(
    request: Request, name: str, upload_id: str, rng: tuple[int, int] | None
) -> Awaitable[Appender]:
    """The upload's appender, at the offset the request's Content-Range `rng` names."""
    return call(service(request).open_upload, name, upload_id, rng[0] if rng else None)


async def patch_upload(request: Request, name: str, upload_id: str) -> Response:
    await authorize(request, name, "push")
    rng = _content_range(request)
    if rng is not None:
        length = _declared_length(request)
        if length is not None and length != rng[1] - rng[0] + 1:
            msg = f"Content-Range covers {rng[1] - rng[0] + 1} bytes, Content-Length {length}"
            raise BlobUploadInvalid(msg)
    state = await _receive(request, await _open(request, name, upload_id, rng))
    return _accepted(name, state)


async def put_upload(request: Request, name: str, upload_id: str) -> Response:
    await authorize(request, name, "push")
    digest = request.query_params.get("digest")
    if not digest:
        raise DigestInvalid("the digest query parameter is required to complete an upload")
    parse_digest(digest)
    appender = await _open(request, name, upload_id, _content_range(request))
    return await _finish(request, name, appender, digest)


async def get_upload(request: Request, name: str, upload_id: str) -> Response:
    await authorize(request, name, "push")
    state = await call(service(request).upload_state, name, upload_id)
    response = _accepted(name, state)
    response.status_code = 204
    return response


async def delete_upload(request: Request, name: str, upload_id: str) -> Response:
    await authorize(request, name, "push")
    registry = service(request)
    repo = await call(registry.repository, name)
    await call(registry.uploads.cancel, repo.id, upload_id)
    return Response(status_code=204)
