"""The blob store seam: content-addressed bytes plus in-progress upload files.

Relationships (which repository sees which blob) live in SQL, never here, so a store only
needs to hold bytes by digest and let an upload become a blob atomically.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from tidegate.oci.digest import Digest


@dataclass(frozen=True, slots=True)
class BlobInfo:
    digest: Digest
    size: int
    modified_at: float


class UploadWriter(Protocol):
    """Appends to one upload; `sync` makes what was written durable before it is acknowledged."""

    def write(self, chunk: bytes) -> None: ...
    def sync(self) -> None: ...
    def close(self) -> None: ...


class BlobStore(Protocol):
    """Content-addressed blob storage with resumable uploads."""

    name: str

    def stat(self, digest: Digest) -> BlobInfo:
        """Size of a stored blob; raises `BlobNotFound`."""
        ...

    def open(self, digest: Digest) -> BinaryIO:
        """A seekable reader of the blob; raises `BlobNotFound`."""
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

    def upload_start(self, upload_id: str) -> None: ...
    def upload_size(self, upload_id: str) -> int:
        """Bytes on disk for the upload; raises `BlobNotFound` when it has none."""
        ...

    def upload_writer(self, upload_id: str, offset: int) -> UploadWriter:
        """A writer positioned at `offset`; anything past it (never acknowledged) is dropped."""
        ...

    def upload_reader(self, upload_id: str) -> BinaryIO: ...
    def upload_commit(self, upload_id: str, digest: Digest) -> None:
        """Make the upload's bytes the blob `digest`, atomically and durably."""
        ...

    def upload_discard(self, upload_id: str) -> None: ...
    def upload_ids(self) -> Iterator[tuple[str, float]]:
        """Every upload with its last-modified time, for expiry."""
        ...
