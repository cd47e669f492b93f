"""Blob upload sessions: monolithic, chunked and resumable, durable across restarts.

An upload's acknowledged offset lives in SQL and is written only after the bytes up to it
are fsynced, so after a crash the session resumes from the last acknowledged byte (anything
written past it is truncated on the next write). The running digest is kept in memory; a
process that lost it (restart, another replica) rebuilds it by re-reading the file.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tidegate import schema as t
from tidegate.db import reading
from tidegate.errors import (
    BlobNotFound,
    BlobUploadInvalid,
    BlobUploadUnknown,
    DigestInvalid,
    SizeInvalid,
)
from tidegate.oci.digest import Digest, algorithm_of
from tidegate.registry import metadata
from tidegate.registry.storage.base import BlobStore, UploadWriter

_READ_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class UploadState:
    id: str
    repository_id: int
    offset: int


class _Hashers:
    """Running sha256 per upload at its acknowledged offset; copies are advanced per chunk."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str, tuple[int, hashlib._Hash]] = {}

    def get(self, upload_id: str, offset: int) -> hashlib._Hash | None:
        with self._lock:
            entry = self._by_id.get(upload_id)
        if entry is None or entry[0] != offset:
            return None
        return entry[1].copy()

    def put(self, upload_id: str, offset: int, hasher: hashlib._Hash) -> None:
        with self._lock:
            self._by_id[upload_id] = (offset, hasher)

    def drop(self, upload_id: str) -> None:
        with self._lock:
            self._by_id.pop(upload_id, None)


class Appender:
    """Writes one request's bytes to an upload; nothing counts until `ack`."""

    def __init__(self, writer: UploadWriter, hasher: hashlib._Hash, state: UploadState) -> None:
        self._writer = writer
        self.hasher = hasher
        self.state = state
        self.written = 0

    def write(self, chunk: bytes) -> None:
        self._writer.write(chunk)
        self.hasher.update(chunk)
        self.written += len(chunk)

    @property
    def offset(self) -> int:
        return self.state.offset + self.written

    def sync_and_close(self) -> None:
        try:
            self._writer.sync()
        finally:
            self._writer.close()

    def close(self) -> None:
        self._writer.close()


class UploadManager:
    """Upload session use cases over the metadata DB and the blob store."""

    def __init__(self, engine: Engine, store: BlobStore, clock: Callable[[], float]) -> None:
        self.engine = engine
        self.store = store
        self.clock = clock
        self._hashers = _Hashers()
        self._busy: set[str] = set()
        self._busy_lock = threading.Lock()

    def start(self, repository_id: int) -> UploadState:
        upload_id = str(uuid.uuid4())
        self.store.upload_start(upload_id)
        now = self.clock()
        with self.engine.begin() as conn:
            conn.execute(
                sa.insert(t.uploads).values(
                    id=upload_id,
                    repository_id=repository_id,
                    offset=0,
                    created_at=now,
                    updated_at=now,
                )
            )
        self._hashers.put(upload_id, 0, hashlib.sha256())
        return UploadState(upload_id, repository_id, 0)

    def state(self, repository_id: int, upload_id: str) -> UploadState:
        try:
            uuid.UUID(upload_id)
        except ValueError as exc:
            raise BlobUploadUnknown(f"upload {upload_id!r} is not known") from exc
        with reading(self.engine) as conn:
            row = conn.execute(
                sa.select(t.uploads.c.offset).where(
                    t.uploads.c.id == upload_id, t.uploads.c.repository_id == repository_id
                )
            ).first()
        if row is None:
            msg = f"upload {upload_id!r} is not known (finished, cancelled or expired)"
            raise BlobUploadUnknown(msg)
        try:
            on_disk = self.store.upload_size(upload_id)
        except BlobNotFound as exc:
            raise BlobUploadUnknown(f"upload {upload_id!r} lost its data") from exc
        offset = int(row[0])
        if on_disk < offset:
            # Acknowledged bytes vanished (disk trouble): the session cannot be trusted.
            msg = f"upload {upload_id!r} is damaged; start again"
            raise BlobUploadUnknown(msg)
        return UploadState(upload_id, repository_id, offset)

    def _hasher(self, state: UploadState) -> hashlib._Hash:
        cached = self._hashers.get(state.id, state.offset)
        if cached is not None:
            return cached
        hasher = hashlib.sha256()
        remaining = state.offset
        with self.store.upload_reader(state.id) as fh:
            while remaining > 0:
                chunk = fh.read(min(_READ_CHUNK, remaining))
                if not chunk:
                    raise BlobUploadUnknown(f"upload {state.id!r} lost data")
                hasher.update(chunk)
                remaining -= len(chunk)
        return hasher

    def open(self, state: UploadState, start: int | None) -> Appender:
        """An appender at the acknowledged offset; `start` (Content-Range) must equal it."""
        if start is not None and start != state.offset:
            msg = f"chunk starts at {start} but the upload has {state.offset} bytes"
            raise BlobUploadInvalid(msg, detail={"offset": state.offset})
        with self._busy_lock:
            if state.id in self._busy:
                msg = f"upload {state.id!r} is receiving another chunk"
                raise BlobUploadInvalid(msg)
            self._busy.add(state.id)
        try:
            hasher = self._hasher(state)
            writer = self.store.upload_writer(state.id, state.offset)
        except BaseException:
            self._release(state.id)
            raise
        return Appender(writer, hasher, state)

    def _release(self, upload_id: str) -> None:
        with self._busy_lock:
            self._busy.discard(upload_id)

    def ack(self, appender: Appender) -> UploadState:
        """Make the appended bytes durable, then record the new offset."""
        try:
            appender.sync_and_close()
            offset = appender.offset
            with self.engine.begin() as conn:
                conn.execute(
                    sa.update(t.uploads)
                    .where(t.uploads.c.id == appender.state.id)
                    .values(offset=offset, updated_at=self.clock())
                )
            self._hashers.put(appender.state.id, offset, appender.hasher)
        finally:
            self._release(appender.state.id)
        return UploadState(appender.state.id, appender.state.repository_id, offset)

    def abort(self, appender: Appender) -> None:
        """Drop a failed request's bytes; the acknowledged offset is unchanged."""
        try:
            appender.close()
        finally:
            self._release(appender.state.id)

    def finish(self, appender: Appender, digest: Digest, expected_size: int | None) -> Digest:
        """Verify digest and size, install the blob and link it; the session ends."""
        state = appender.state
        try:
            appender.sync_and_close()
            size = appender.offset
            if algorithm_of(digest) != "sha256":
                actual = self._rehash(state.id, algorithm_of(digest))
            else:
                actual = f"sha256:{appender.hasher.hexdigest()}"
            if expected_size is not None and expected_size != size:
                msg = f"received {size} bytes, expected {expected_size}"
                raise SizeInvalid(msg)
            if actual != digest:
                msg = f"content digest {actual} does not match {digest}"
                raise DigestInvalid(msg, detail={"digest": digest})
            self.store.upload_commit(state.id, digest)
            now = self.clock()
            with self.engine.begin() as conn:
                metadata.record_blob(conn, digest, size, now)
                metadata.link_blob(conn, state.repository_id, digest, now)
                conn.execute(sa.delete(t.uploads).where(t.uploads.c.id == state.id))
        except (DigestInvalid, SizeInvalid):
            # A bad upload leaves nothing behind: the session and its bytes are gone.
            self.cancel(state.repository_id, state.id)
            raise
        finally:
            self._release(state.id)
            self._hashers.drop(state.id)
        return digest

    def _rehash(self, upload_id: str, algorithm: str) -> str:
        hasher = hashlib.new(algorithm)
        with self.store.upload_reader(upload_id) as fh:
            while chunk := fh.read(_READ_CHUNK):
                hasher.update(chunk)
        return f"{algorithm}:{hasher.hexdigest()}"

    def record_part(self, upload_id: str, first_byte: int, last_byte: int) -> None:
        """Remember one acknowledged ECR layer part (the parts go with the upload row)."""
        with self.engine.begin() as conn:
            conn.execute(
                sa.insert(t.layer_upload_parts).values(
                    upload_id=upload_id, first_byte=first_byte, last_byte=last_byte
                )
            )

    def part_sizes(self, upload_id: str) -> list[int]:
        """Sizes of the ECR layer parts recorded for an upload, in byte order."""
        with reading(self.engine) as conn:
            rows = conn.execute(
                sa.select(t.layer_upload_parts.c.first_byte, t.layer_upload_parts.c.last_byte)
                .where(t.layer_upload_parts.c.upload_id == upload_id)
                .order_by(t.layer_upload_parts.c.first_byte)
            ).all()
        return [int(last) - int(first) + 1 for first, last in rows]

    def cancel(self, repository_id: int, upload_id: str) -> None:
        with self.engine.begin() as conn:
            deleted = conn.execute(
                sa.delete(t.uploads).where(
                    t.uploads.c.id == upload_id, t.uploads.c.repository_id == repository_id
                )
            )
        self.store.upload_discard(upload_id)
        self._hashers.drop(upload_id)
        if deleted.rowcount == 0:
            raise BlobUploadUnknown(f"upload {upload_id!r} is not known")
