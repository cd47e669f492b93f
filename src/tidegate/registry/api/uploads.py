"""Blob uploads: POST (start, monolithic, mount), PATCH chunks, PUT to finish, GET, DELETE."""

from __future__ import annotations

import re

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


async def _receive(request: Request, state: UploadState, start: int | None) -> UploadState:
    """Append the request body to the upload and acknowledge it durably."""
    uploads = service(request).uploads
    appender = await call(uploads.open, state, start)
    await _append_body(request, appender)
    return await call(uploads.ack, appender)


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
    repo = await call(registry.repository_for_push, name)
    digest = request.query_params.get("digest")
    if digest is not None:
        parsed = parse_digest(digest)
        state = await call(registry.uploads.start, repo.id)
        return await _finish(request, name, state, parsed)
    state = await call(registry.uploads.start, repo.id)
    return _accepted(name, state)


async def _finish(request: Request, name: str, state: UploadState, digest: str) -> Response:
    uploads = service(request).uploads
    rng = _content_range(request)
    appender = await call(uploads.open, state, rng[0] if rng else None)
    await _append_body(request, appender)
    await call(uploads.finish, appender, parse_digest(digest), None)
    return _created(name, digest)


async def _state(request: Request, name: str, upload_id: str) -> UploadState:
    registry = service(request)
    repo = await call(registry.repository, name)
    return await call(registry.uploads.state, repo.id, upload_id)


async def patch_upload(request: Request, name: str, upload_id: str) -> Response:
    await authorize(request, name, "push")
    state = await _state(request, name, upload_id)
    rng = _content_range(request)
    if rng is not None:
        length = _declared_length(request)
        if length is not None and length != rng[1] - rng[0] + 1:
            msg = f"Content-Range covers {rng[1] - rng[0] + 1} bytes, Content-Length {length}"
            raise BlobUploadInvalid(msg)
    state = await _receive(request, state, rng[0] if rng else None)
    return _accepted(name, state)


async def put_upload(request: Request, name: str, upload_id: str) -> Response:
    await authorize(request, name, "push")
    digest = request.query_params.get("digest")
    if not digest:
        raise DigestInvalid("the digest query parameter is required to complete an upload")
    parse_digest(digest)
    state = await _state(request, name, upload_id)
    return await _finish(request, name, state, digest)


async def get_upload(request: Request, name: str, upload_id: str) -> Response:
    await authorize(request, name, "push")
    state = await _state(request, name, upload_id)
    response = _accepted(name, state)
    response.status_code = 204
    return response


async def delete_upload(request: Request, name: str, upload_id: str) -> Response:
    await authorize(request, name, "push")
    registry = service(request)
    repo = await call(registry.repository, name)
    await call(registry.uploads.cancel, repo.id, upload_id)
    return Response(status_code=204)
