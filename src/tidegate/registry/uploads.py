"""Blob upload sessions: monolithic, chunked and resumable, durable across restarts.

An upload's acknowledged offset and the blob store's token for it (S3: multipart id, parts,
buffered tail) live in SQL, written in one UPDATE only after the store made the bytes up to
that offset durable, so after a crash, or on another process or replica, the session
resumes from the last acknowledged byte. The running sha256 is only a per-process cache
keyed by (upload, offset); its digest at each acknowledged offset is stored beside the
offset, so the empty PUT that ends a chunked upload verifies on any process without reading
the blob back. A process that appends bytes without the running hash has the store hash
the assembled bytes when the upload finishes, so correctness never depends on which process
saw which chunk.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

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

# Running hashes kept per process; beyond this many, the oldest are forgotten (the store
# then verifies those uploads by re-reading them).
_MAX_CACHED_HASHERS = 1024


# Built once: every chunk of every upload runs these, and building a statement costs more
# than SQLite running it.
_STATE_COLUMNS = (t.uploads.c.offset, t.uploads.c.store_state, t.uploads.c.acked_sha256)
_STATE = sa.select(*_STATE_COLUMNS).where(
    t.uploads.c.id == sa.bindparam("upload_id"),
    t.uploads.c.repository_id == sa.bindparam("repository_id"),
)
_STATE_IN_REPOSITORY = (
    sa.select(*_STATE_COLUMNS, t.uploads.c.repository_id)
    .join(t.repositories, t.repositories.c.id == t.uploads.c.repository_id)
    .where(
        t.uploads.c.id == sa.bindparam("upload_id"), t.repositories.c.name == sa.bindparam("name")
    )
)
_ACK = (
    sa.update(t.uploads)
    .where(t.uploads.c.id == sa.bindparam("upload_id"), t.uploads.c.offset == sa.bindparam("acked"))
    .values(
        offset=sa.bindparam("new_offset"),
        store_state=sa.bindparam("token"),
        acked_sha256=sa.bindparam("sha256"),
        updated_at=sa.bindparam("now"),
    )
)


@dataclass(frozen=True, slots=True)
class UploadState:
    id: str
    repository_id: int
    offset: int
    token: str = ""
    acked_sha256: str | None = None  # digest of the bytes before `offset`, when recorded


def _known_id(upload_id: str) -> bool:
    try:
        uuid.UUID(upload_id)
    except ValueError:
        return False
    return True


def _state_of(upload_id: str, repository_id: int, row: Sequence[Any]) -> UploadState:
    """The state from a row that starts with `_STATE_COLUMNS`."""
    return UploadState(upload_id, repository_id, int(row[0]), str(row[1] or ""), row[2])


def read_state(conn: Connection, repository_id: int, upload_id: str) -> UploadState:
    """The upload's acknowledged state, read on the caller's connection."""
    if not _known_id(upload_id):
        raise BlobUploadUnknown(f"upload {upload_id!r} is not known")
    row = conn.execute(_STATE, {"upload_id": upload_id, "repository_id": repository_id}).first()
    if row is None:
        msg = f"upload {upload_id!r} is not known (finished, cancelled or expired)"
        raise BlobUploadUnknown(msg)
    return _state_of(upload_id, repository_id, row)


def read_state_by_name(conn: Connection, repository: str, upload_id: str) -> UploadState:
    """The upload's state found by its repository's name: one statement for the chunk path.

    NameUnknown when the repository does not exist, else BlobUploadUnknown as `read_state`.
    """
    params = {"upload_id": upload_id, "name": repository}
    row = conn.execute(_STATE_IN_REPOSITORY, params).first() if _known_id(upload_id) else None
    if row is None:  # name the miss as read_state would
        return read_state(conn, metadata.get_repo(conn, repository).id, upload_id)
    return _state_of(upload_id, int(row[3]), row)


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
            self._by_id.pop(upload_id, None)
            self._by_id[upload_id] = (offset, hasher)
            while len(self._by_id) > _MAX_CACHED_HASHERS:
                del self._by_id[next(iter(self._by_id))]

    def drop(self, upload_id: str) -> None:
        with self._lock:
            self._by_id.pop(upload_id, None)


class Appender:
    """Writes one request's bytes to an upload; nothing counts until `ack`.

    `hasher` is None when this process does not know the digest of the bytes before
    `state.offset` (the upload began elsewhere).
    """

    def __init__(
        self, writer: UploadWriter, hasher: hashlib._Hash | None, state: UploadState
    ) -> None:
        self._writer = writer
        self.hasher = hasher
        self.state = state
        self.written = 0

    @property
    def blocking(self) -> bool:
        """True when a write may wait on the network (the caller runs it in a thread)."""
        return self._writer.blocking

    def write(self, chunk: bytes) -> None:
        self._writer.write(chunk)
        if self.hasher is not None:
            self.hasher.update(chunk)
        self.written += len(chunk)

    def sha256(self) -> str | None:
        """The digest of everything up to `offset`, if this process can tell it unhashed."""
        if self.hasher is not None:
            return f"sha256:{self.hasher.hexdigest()}"
        if self.written == 0:
            return self.state.acked_sha256  # nothing new: the acknowledging process's word
        return None

    @property
    def offset(self) -> int:
        return self.state.offset + self.written

    def sync_and_close(self) -> str:
        try:
            return self._writer.sync()
        finally:
            self._writer.close()

    def commit(self, digest: Digest, *, verified: bool) -> None:
        try:
            self._writer.commit(digest, verified=verified)
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
        token = self.store.upload_start(upload_id)
        now = self.clock()
        with self.engine.begin() as conn:
            conn.execute(
                sa.insert(t.uploads).values(
                    id=upload_id,
                    repository_id=repository_id,
                    offset=0,
                    created_at=now,
                    updated_at=now,
                    store_state=token,
                )
            )
        self._hashers.put(upload_id, 0, hashlib.sha256())
        return UploadState(upload_id, repository_id, 0, token)

    def state(self, repository_id: int, upload_id: str) -> UploadState:
        with reading(self.engine) as conn:
            return read_state(conn, repository_id, upload_id)

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
            writer = self.store.upload_writer(state.id, state.offset, state.token)
        except BlobNotFound as exc:
            self._release(state.id)
            # Acknowledged bytes vanished (disk trouble, a swept bucket): start again.
            msg = f"upload {state.id!r} lost its data; start again"
            raise BlobUploadUnknown(msg) from exc
        except BaseException:
            self._release(state.id)
            raise
        hasher = self._hashers.get(state.id, state.offset)
        if hasher is None and state.offset == 0:
            hasher = hashlib.sha256()  # begun in another process, nothing written yet
        return Appender(writer, hasher, state)

    def _release(self, upload_id: str) -> None:
        with self._busy_lock:
            self._busy.discard(upload_id)

    def ack(self, appender: Appender) -> UploadState:
        """Make the appended bytes durable, then record the new offset and store token."""
        state = appender.state
        try:
            token = appender.sync_and_close()
            offset = appender.offset
            acked = appender.sha256()
            values = {
                "upload_id": state.id, "acked": state.offset, "new_offset": offset,
                "token": token, "sha256": acked, "now": self.clock(),
            }  # fmt: skip
            with self.engine.begin() as conn:
                moved = conn.execute(_ACK, values).rowcount
            if moved != 1:
                # Another process acknowledged a chunk of this upload meanwhile (or it ended):
                # ours is dropped, theirs stands.
                msg = f"upload {state.id!r} received another chunk at the same time; retry"
                raise BlobUploadInvalid(msg)
            if appender.hasher is not None:
                self._hashers.put(state.id, offset, appender.hasher)
        finally:
            self._release(state.id)
        return UploadState(state.id, state.repository_id, offset, token, acked)

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
            size = appender.offset
            if expected_size is not None and expected_size != size:
                appender.close()
                msg = f"received {size} bytes, expected {expected_size}"
                raise SizeInvalid(msg)
            verified = False
            actual = appender.sha256()
            if algorithm_of(digest) == "sha256" and actual is not None:
                if actual != digest:
                    appender.close()
                    msg = f"content digest {actual} does not match {digest}"
                    raise DigestInvalid(msg, detail={"digest": digest})
                verified = True
            appender.commit(digest, verified=verified)
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
