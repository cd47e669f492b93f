"""Blob store on an S3 bucket (AWS S3, SeaweedFS, MinIO, Ceph RGW) through boto3.

Keys, under the configured prefix:

    blobs/<algorithm>/<first two hex>/<hex>    one object per blob, written whole (PUT or copy)
    uploads/<id>/data                          the multipart upload of an upload session
    uploads/<id>/tail-<offset>-<nonce>         acknowledged bytes not yet in a part

S3 parts must be at least 5 MiB (all but the last), while registry chunks may be any size:
bytes past the last full part are kept as a small "tail" object, named by the offset it
ends at and a nonce so no other write ever overwrites an acknowledged one (parts are held
to their recorded ETags by CompleteMultipartUpload). The token (JSON,
persisted by the caller with the offset) lists the multipart id, the parts and the tail.
A finished upload is completed into `uploads/<id>/data` and copied server-side to its blob
key (multipart keys are fixed before the digest is known), the way Distribution does it.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tidegate.config import StorageSection
from tidegate.errors import BlobNotFound, DigestInvalid, StorageError, StorageUnavailable
from tidegate.oci.digest import (
    Digest,
    algorithm_of,
    digest_bytes,
    digest_stream,
    hex_of,
    parse_digest,
)
from tidegate.registry.storage.base import REDIRECT_SECONDS, BlobInfo

# 8 MiB parts: above S3's 5 MiB minimum, and 10,000 parts allow an 80 GiB blob.
PART_SIZE = 8 << 20
_NOT_FOUND = {"404", "NoSuchKey", "NotFound", "NoSuchUpload"}
_DENIED = {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"}

T = TypeVar("T")


def s3_client(section: StorageSection) -> Any:
    """A boto3 S3 client for the `[storage]` endpoint and credentials (also the one report
    destinations write with)."""
    session = boto3.session.Session(
        aws_access_key_id=section.access_key_id or None,
        aws_secret_access_key=section.secret_access_key or None,
        region_name=section.region or "us-east-1",
    )
    config = Config(
        signature_version="s3v4",
        # A custom endpoint (SeaweedFS, MinIO) rarely has wildcard DNS for bucket hosts.
        s3={"addressing_style": "path" if section.endpoint_url else "auto"},
        connect_timeout=3,
        read_timeout=60,
        retries={"mode": "standard", "max_attempts": 2},
        max_pool_connections=64,
    )
    return session.client("s3", endpoint_url=section.endpoint_url or None, config=config)


@dataclass
class _UploadToken:
    mpu: str | None = None
    parts: list[tuple[int, str, int]] = field(default_factory=list)  # number, ETag, size
    tail: str | None = None
    tail_size: int = 0
    stale: list[str] = field(default_factory=list)  # earlier tails, removed once acked past

    @property
    def size(self) -> int:
        return sum(p[2] for p in self.parts) + self.tail_size

    def dump(self) -> str:
        return json.dumps(
            {"mpu": self.mpu, "parts": self.parts, "tail": self.tail,
             "tail_size": self.tail_size, "stale": self.stale},
            separators=(",", ":"),
        )  # fmt: skip

    @classmethod
    def load(cls, text: str) -> _UploadToken:
        if not text:
            return cls()
        raw = json.loads(text)
        parts = [(int(n), str(etag), int(size)) for n, etag, size in raw["parts"]]
        return cls(raw["mpu"], parts, raw["tail"], int(raw["tail_size"]), list(raw["stale"]))


class S3BlobStore:
    """`BlobStore` over one bucket; every boto3 failure becomes a `StorageError`."""

    name = "s3"

    def __init__(self, section: StorageSection, *, part_size: int = PART_SIZE) -> None:
        self.section = section
        self.bucket = section.bucket
        self.prefix = section.prefix
        self.part_size = part_size
        self.client = s3_client(section)

    # -- keys and error translation ------------------------------------------------------

    def blob_key(self, digest: Digest) -> str:
        encoded = hex_of(digest)
        return f"{self.prefix}blobs/{algorithm_of(digest)}/{encoded[:2]}/{encoded}"

    def upload_prefix(self, upload_id: str) -> str:
        return f"{self.prefix}uploads/{upload_id}/"

    def call(self, fn: Callable[..., T], **kwargs: Any) -> T:
        """Run one S3 request; unreachable, missing bucket, 5xx -> `StorageUnavailable`."""
        try:
            return fn(**kwargs)
        except ClientError as exc:
            raise self._translate(exc) from exc
        except BotoCoreError as exc:  # connection refused, timeouts, broken streams
            msg = "the blob store cannot be reached; try again later"
            raise StorageUnavailable(msg) from exc

    def _translate(self, exc: ClientError) -> StorageError:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code == "NoSuchBucket":
            return StorageUnavailable(f"the blob store has no bucket {self.bucket!r}")
        if code in _NOT_FOUND:
            return BlobNotFound(code)
        if code in _DENIED or status == 403:
            return StorageUnavailable("the blob store refused Tidegate's credentials")
        if status >= 500 or code in ("SlowDown", "ServiceUnavailable", "InternalError"):
            return StorageUnavailable("the blob store is unavailable; try again later")
        return StorageError(f"the blob store answered {code or status}")

    def _missing(self, what: str) -> BlobNotFound:
        """A 404 on a key: but a HEAD cannot tell a missing key from a missing bucket."""
        self.ready()
        return BlobNotFound(what)

    # -- blobs ---------------------------------------------------------------------------

    def ready(self) -> None:
        try:
            self.call(self.client.head_bucket, Bucket=self.bucket)
        except BlobNotFound:
            raise StorageUnavailable(f"the blob store has no bucket {self.bucket!r}") from None

    def stat(self, digest: Digest) -> BlobInfo:
        try:
            head = self.call(self.client.head_object, Bucket=self.bucket, Key=self.blob_key(digest))
        except BlobNotFound:
            raise self._missing(digest) from None
        return BlobInfo(digest, int(head["ContentLength"]), head["LastModified"].timestamp())

    def open(self, digest: Digest) -> BinaryIO:
        info = self.stat(digest)
        raw = S3Reader(self, self.blob_key(digest), info.size)
        return io.BufferedReader(raw, buffer_size=1 << 20)

    def redirect_url(self, digest: Digest) -> str | None:
        if not self.section.redirect:
            return None
        url: str = self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": self.blob_key(digest)},
            ExpiresIn=REDIRECT_SECONDS,
        )
        return url

    def put(self, digest: Digest, data: bytes) -> None:
        self.call(
            self.client.put_object, Bucket=self.bucket, Key=self.blob_key(digest), Body=data,
            ContentType="application/octet-stream",
        )  # fmt: skip

    def delete(self, digest: Digest) -> None:
        self.call(self.client.delete_object, Bucket=self.bucket, Key=self.blob_key(digest))

    def _objects(self, prefix: str) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
            if token:
                kwargs["ContinuationToken"] = token
            page = self.call(self.client.list_objects_v2, **kwargs)
            yield from page.get("Contents", [])
            if not page.get("IsTruncated"):
                return
            token = page["NextContinuationToken"]

    def walk(self) -> Iterator[BlobInfo]:
        base = f"{self.prefix}blobs/"
        for obj in self._objects(base):
            parts = obj["Key"][len(base) :].split("/")
            if len(parts) != 3 or parts[1] != parts[2][:2]:
                continue  # a foreign object
            try:
                digest = parse_digest(f"{parts[0]}:{parts[2]}")
            except DigestInvalid:
                continue
            yield BlobInfo(digest, int(obj["Size"]), obj["LastModified"].timestamp())

    # -- uploads -------------------------------------------------------------------------

    def upload_start(self, upload_id: str) -> str:
        # Nothing to create yet: the multipart upload starts with the first full part.
        return _UploadToken().dump()

    def upload_writer(self, upload_id: str, offset: int, token: str) -> S3UploadWriter:
        state = _UploadToken.load(token)
        if state.size != offset:
            raise BlobNotFound(upload_id)  # token and offset disagree: the session is damaged
        buffer = bytearray()
        if state.tail is not None:
            try:
                body = self.call(self.client.get_object, Bucket=self.bucket, Key=state.tail)
                buffer += self.call(body["Body"].read)
            except BlobNotFound:
                raise self._missing(upload_id) from None
        if state.stale:
            self._delete_keys(state.stale)
            state.stale = []
        return S3UploadWriter(self, upload_id, state, buffer)

    def _delete_keys(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            self.call(
                self.client.delete_objects, Bucket=self.bucket,
                Delete={"Objects": batch, "Quiet": True},
            )  # fmt: skip

    def _multipart_uploads(self, prefix: str) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        while True:
            page = self.call(self.client.list_multipart_uploads, **kwargs)
            yield from page.get("Uploads", [])
            if not page.get("IsTruncated"):
                return
            kwargs["KeyMarker"] = page["NextKeyMarker"]
            kwargs["UploadIdMarker"] = page["NextUploadIdMarker"]

    def upload_discard(self, upload_id: str) -> None:
        prefix = self.upload_prefix(upload_id)
        for mpu in list(self._multipart_uploads(prefix)):
            try:
                self.call(
                    self.client.abort_multipart_upload, Bucket=self.bucket, Key=mpu["Key"],
                    UploadId=mpu["UploadId"],
                )  # fmt: skip
            except BlobNotFound:
                continue
        keys = [obj["Key"] for obj in self._objects(prefix)]
        if keys:
            self._delete_keys(keys)

    def upload_ids(self) -> Iterator[tuple[str, float]]:
        base = f"{self.prefix}uploads/"
        latest: dict[str, float] = {}
        for obj in self._objects(base):
            upload_id = obj["Key"][len(base) :].split("/", 1)[0]
            stamp = obj["LastModified"].timestamp()
            latest[upload_id] = max(stamp, latest.get(upload_id, 0.0))
        for mpu in self._multipart_uploads(base):
            upload_id = mpu["Key"][len(base) :].split("/", 1)[0]
            stamp = mpu["Initiated"].timestamp()
            latest[upload_id] = max(stamp, latest.get(upload_id, 0.0))
        yield from sorted(latest.items())


class S3UploadWriter:
    """Buffers up to one part in memory; full parts go out as they fill, the rest on sync."""

    blocking = True

    def __init__(
        self, store: S3BlobStore, upload_id: str, state: _UploadToken, buffer: bytearray
    ) -> None:
        self._store = store
        self._upload_id = upload_id
        self._state = state
        self._buffer = buffer
        self._data_key = store.upload_prefix(upload_id) + "data"

    def write(self, chunk: bytes) -> None:
        self._buffer += chunk
        while len(self._buffer) >= self._store.part_size:
            self._send_part(bytes(self._buffer[: self._store.part_size]))
            del self._buffer[: self._store.part_size]

    def _send_part(self, data: bytes) -> None:
        store, state = self._store, self._state
        if state.mpu is None:
            created = store.call(
                store.client.create_multipart_upload, Bucket=store.bucket, Key=self._data_key,
                ContentType="application/octet-stream",
            )  # fmt: skip
            state.mpu = str(created["UploadId"])
        number = len(state.parts) + 1
        try:
            sent = store.call(
                store.client.upload_part, Bucket=store.bucket, Key=self._data_key,
                UploadId=state.mpu, PartNumber=number, Body=data,
            )  # fmt: skip
        except BlobNotFound:  # NoSuchUpload: the multipart upload was aborted (expired)
            raise store._missing(self._upload_id) from None
        state.parts.append((number, str(sent["ETag"]), len(data)))
        if state.tail is not None:  # its bytes are in this part now
            state.stale.append(state.tail)
            state.tail, state.tail_size = None, 0

    def sync(self) -> str:
        store, state = self._store, self._state
        if len(self._buffer) != state.tail_size or (self._buffer and state.tail is None):
            size = sum(p[2] for p in state.parts) + len(self._buffer)
            # Unique per write: a racing request on another replica never overwrites it.
            key = f"{store.upload_prefix(self._upload_id)}tail-{size}-{uuid.uuid4().hex[:12]}"
            store.call(
                store.client.put_object, Bucket=store.bucket, Key=key, Body=bytes(self._buffer)
            )
            if state.tail is not None and state.tail != key:
                state.stale.append(state.tail)
            state.tail, state.tail_size = key, len(self._buffer)
        return state.dump()

    def commit(self, digest: Digest, *, verified: bool) -> None:
        store, state = self._store, self._state
        if state.mpu is None:
            data = bytes(self._buffer)  # the whole blob: it never filled a part
            if not verified and digest_bytes(data, algorithm_of(digest)) != digest:
                self._mismatch(digest)
            store.put(digest, data)
            # Only what the acknowledged state names; leftovers of a crashed writer are
            # orphans for GC, which spares a small push two listings.
            known = [*state.stale, *([state.tail] if state.tail else [])]
            if known:
                store._delete_keys(known)
            return
        if self._buffer:
            self._send_part(bytes(self._buffer))
            self._buffer.clear()
        parts = [{"PartNumber": n, "ETag": etag} for n, etag, _ in state.parts]
        store.call(
            store.client.complete_multipart_upload, Bucket=store.bucket,
            Key=self._data_key, UploadId=state.mpu, MultipartUpload={"Parts": parts},
        )  # fmt: skip
        if not verified:
            self._verify(digest)
        store.call(
            store.client.copy, CopySource={"Bucket": store.bucket, "Key": self._data_key},
            Bucket=store.bucket, Key=store.blob_key(digest),
        )  # fmt: skip
        store.upload_discard(self._upload_id)

    def _verify(self, digest: Digest) -> None:
        store = self._store
        body = store.call(store.client.get_object, Bucket=store.bucket, Key=self._data_key)
        stream = body["Body"]
        try:
            actual = store.call(digest_stream, fh=stream, algorithm=algorithm_of(digest))
        finally:
            stream.close()
        if actual != digest:
            self._mismatch(digest, actual)

    def _mismatch(self, digest: Digest, actual: str | None = None) -> None:
        self._store.upload_discard(self._upload_id)
        if actual is None:
            actual = digest_bytes(bytes(self._buffer), algorithm_of(digest))
        msg = f"content digest {actual} does not match {digest}"
        raise DigestInvalid(msg, detail={"digest": digest})

    def close(self) -> None:
        self._buffer = bytearray()


class S3Reader(io.RawIOBase):
    """A seekable reader over one object: one streaming GET from the current position,
    reopened with a Range after a seek."""

    def __init__(self, store: S3BlobStore, key: str, size: int) -> None:
        super().__init__()
        self._store = store
        self._key = key
        self._size = size
        self._pos = 0
        self._body: Any = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        target = max(base + offset, 0)
        if target != self._pos:
            self._drop()
            self._pos = target
        return self._pos

    def readinto(self, buffer: Any) -> int:
        if self._pos >= self._size:
            return 0
        if self._body is None:
            store = self._store
            answer = store.call(
                store.client.get_object, Bucket=store.bucket, Key=self._key,
                Range=f"bytes={self._pos}-",
            )  # fmt: skip
            self._body = answer["Body"]
        view = memoryview(buffer).cast("B")
        data: bytes = self._store.call(self._body.read, amt=len(view))
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def _drop(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    def close(self) -> None:
        self._drop()
        super().close()
