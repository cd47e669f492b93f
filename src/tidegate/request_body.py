"""Reading a request body under a byte limit, shared by every HTTP API.

Each API raises its own error when the body is too large; this module only guarantees that
no more than `limit` bytes are ever buffered.
"""

from __future__ import annotations

from starlette.requests import Request


async def read_limited(request: Request, limit: int) -> bytes | None:
    """The whole body, or None as soon as it passes `limit` bytes."""
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
