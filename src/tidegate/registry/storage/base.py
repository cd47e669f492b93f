"""The blob store seam: content-addressed bytes plus in-progress uploads.

Relationships (which repository sees which blob) live in SQL, never here, so a store only
needs to hold bytes by digest and let an upload become a blob atomically. An upload's
progress is described by an opaque `token` that the store returns on every `sync` and the
caller persists next to the acknowledged offset; any process given (offset, token) can
continue the upload, so no store keeps per-process upload state.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from tidegate.oci.digest import Digest

# How long a redirect to the store (a presigned URL) stays valid; Distribution uses 20 min.
REDIRECT_SECONDS = 1200


@dataclass(frozen=True, slots=True)
class BlobInfo:
    digest: Digest
    size: int
    modified_at: float


class UploadWriter(Protocol):
    """Appends to one upload from an acknowledged offset.

    Nothing written counts until `sync` returns; `close` without `sync` drops it.
    """

    # True when `write` may block on the network (run it off the event loop).
    blocking: bool

    def write(self, chunk: bytes) -> None: ...

    def sync(self) -> str:
        """Make everything written durable; the token to persist with the new offset."""
        ...

    def commit(self, digest: Digest, *, verified: bool) -> None:
        """Make the upload's bytes the blob `digest`, atomically; the upload is gone after.

        With `verified` False the caller did not see every byte hashed (the upload moved
        between processes): the store hashes the assembled bytes itself and, on a mismatch,
        removes them and raises `DigestInvalid`.
        """
        ...

    def close(self) -> None: ...


class BlobStore(Protocol):
    """Content-addressed blob storage with resumable uploads."""

    name: str

    def ready(self) -> None:
        """Cheap health probe; raises `StorageUnavailable` naming the reason."""
        ...

    def stat(self, digest: Digest) -> BlobInfo:
        """Size of a stored blob; raises `BlobNotFound`."""
        ...

    def open(self, digest: Digest) -> BinaryIO:
        """A seekable reader of the blob; raises `BlobNotFound`."""
        ...

    def redirect_url(self, digest: Digest) -> str | None:
        """A URL a client may fetch the blob from directly, or None to proxy through us."""
        ...

    def put(self, digest: Digest, data: bytes) -> None:
        """Store small content (manifests) whose digest the caller has verified."""
        ...

    def delete(self, digest: Digest) -> None:
        """Remove a blob's bytes; missing is not an error (GC may race with itself)."""
        ...

    def walk(self) -> Iterator[BlobInfo]:
        """Every stored blob, for garbage collection."""
        ...

    def upload_start(self, upload_id: str) -> str:
        """Create an empty upload; its token."""
        ...

    def upload_writer(self, upload_id: str, offset: int, token: str) -> UploadWriter:
        """A writer at the acknowledged `offset` described by `token`; anything past it (never
        acknowledged) is dropped. Raises `BlobNotFound` when the upload's bytes are gone."""
        ...

    def upload_discard(self, upload_id: str) -> None:
        """Remove everything an upload wrote; missing is not an error."""
        ...

    def upload_ids(self) -> Iterator[tuple[str, float]]:
        """Every upload with its last-modified time, for expiry."""
        ...
