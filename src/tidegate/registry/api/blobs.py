"""Blob HEAD/GET (with Range) and DELETE."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import BinaryIO

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from tidegate.access import authorize
from tidegate.errors import RangeInvalid
from tidegate.registry.api.common import call, service

_CHUNK = 4 << 20  # fewer thread hops per byte; memory stays a small constant
_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str, size: int) -> tuple[int, int]:
    """One `bytes=a-b` / `bytes=a-` / `bytes=-n` range as inclusive offsets."""
    match = _RANGE_RE.match(header.strip())
    if match is None:
        msg = f"unsupported Range {header!r}"
        raise RangeInvalid(msg)
    first, last = match.groups()
    if not first and not last:
        raise RangeInvalid(f"empty Range {header!r}")
    if not first:
        length = int(last)
        start, end = max(size - length, 0), size - 1
    else:
        start = int(first)
        end = int(last) if last else size - 1
    end = min(end, size - 1)
    if start > end or start >= size:
        msg = f"Range {header!r} cannot be satisfied for a {size}-byte blob"
        raise RangeInvalid(msg)
    return start, end


async def _stream(fh: BinaryIO, start: int, length: int) -> AsyncIterator[bytes]:
    try:
        await anyio.to_thread.run_sync(fh.seek, start)
        remaining = length
        while remaining > 0:
            chunk = await anyio.to_thread.run_sync(fh.read, min(_CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        fh.close()


async def get_blob(request: Request, name: str, digest: str) -> Response:
    await authorize(request, name, "pull")
    registry = service(request)
    if request.method == "HEAD":
        parsed, size = await call(registry.stat_blob, name, digest)
        return Response(
            status_code=200,
            headers={
                "Content-Length": str(size),
                "Docker-Content-Digest": parsed,
                "Content-Type": "application/octet-stream",
                "Accept-Ranges": "bytes",
            },
        )
    redirect = await call(registry.blob_redirect, name, digest)
    if redirect is not None:
        # As Distribution's S3 driver: the bytes come from the store, not through us.
        return Response(
            status_code=307,
            headers={
                "Location": redirect[1],
                "Docker-Content-Digest": redirect[0],
                "Content-Length": "0",
            },
        )
    parsed, size, fh = await call(registry.open_blob, name, digest)
    headers = {
        "Docker-Content-Digest": parsed,
        "Content-Type": "application/octet-stream",
        "Accept-Ranges": "bytes",
        "ETag": f'"{parsed}"',
    }
    status, start, length = 200, 0, size
    range_header = request.headers.get("range")
    if range_header and size > 0:
        try:
            start, end = parse_range(range_header, size)
        except RangeInvalid as exc:
            fh.close()
            exc.headers = {"Content-Range": f"bytes */{size}"}
            raise
        status, length = 206, end - start + 1
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(length)
    return StreamingResponse(_stream(fh, start, length), status_code=status, headers=headers)


async def delete_blob(request: Request, name: str, digest: str) -> Response:
    await authorize(request, name, "delete")
    await call(service(request).delete_blob, name, digest)
    return Response(status_code=202, headers={"Content-Length": "0"})
