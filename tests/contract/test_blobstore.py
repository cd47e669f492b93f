"""The BlobStore contract, one suite over the filesystem driver and the S3 driver (SeaweedFS).

Uploads are also driven through two `UploadManager`s sharing one database and store, as
two replicas would: each chunk may land on either, and neither's memory is needed.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.support.seaweed import SeaweedS3
from tidegate.config import StorageDriver, StorageSection
from tidegate.db import create_engine, migrate
from tidegate.errors import (
    BlobNotFound,
    BlobUploadInvalid,
    BlobUploadUnknown,
    DigestInvalid,
    StorageUnavailable,
)
from tidegate.oci.digest import Digest, digest_bytes
from tidegate.oci.reference import RepoName
from tidegate.registry import metadata
from tidegate.registry.storage.base import BlobStore, UploadWriter
from tidegate.registry.storage.filesystem import FilesystemBlobStore
from tidegate.registry.storage.s3 import S3BlobStore
from tidegate.registry.uploads import UploadManager
from tidegate.schema import uploads as uploads_table

PART = 5 << 20  # S3's minimum part size: the smallest the driver may use


@pytest.fixture(scope="module")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    with SeaweedS3(tmp_path_factory.mktemp("weed") / "data", bucket="contract") as s3:
        yield s3


def _section(s3: SeaweedS3, **extra: object) -> StorageSection:
    values = {**s3.storage(), "prefix": f"t-{uuid.uuid4().hex[:8]}/", **extra}
    values["driver"] = StorageDriver.S3
    return StorageSection(**values)  # type: ignore[arg-type]


@pytest.fixture(params=["filesystem", pytest.param("s3", marks=pytest.mark.s3)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "filesystem":
        return FilesystemBlobStore(tmp_path / "blobs")
    return S3BlobStore(_section(request.getfixturevalue("seaweed")), part_size=PART)


def _blob(size: int, seed: int = 0) -> tuple[bytes, Digest]:
    data = (hashlib.sha256(str(seed).encode()).digest() * (size // 32 + 1))[:size]
    return data, digest_bytes(data)


def _read(store: BlobStore, digest: Digest, start: int = 0) -> bytes:
    with store.open(digest) as fh:
        fh.seek(start)
        return fh.read()


def test_put_stat_open_seek_walk_delete(store: BlobStore) -> None:
    data, digest = _blob(3000)
    store.ready()
    store.put(digest, data)
    store.put(digest, data)  # idempotent
    assert store.stat(digest).size == 3000
    assert _read(store, digest) == data
    assert _read(store, digest, 2990) == data[2990:]
    with store.open(digest) as fh:
        assert fh.read(10) == data[:10]
        fh.seek(100)
        assert fh.read(5) == data[100:105]
        assert fh.read(0) == b""
    assert [info.digest for info in store.walk()] == [digest]
    store.delete(digest)
    store.delete(digest)  # missing is not an error
    assert list(store.walk()) == []
    with pytest.raises(BlobNotFound):
        store.stat(digest)
    with pytest.raises(BlobNotFound):
        store.open(digest)


def test_chunked_upload_resumes_from_the_token_alone(store: BlobStore) -> None:
    """Chunks smaller and larger than a part, each through a fresh writer from (offset, token)."""
    data, digest = _blob(2 * PART + 12345, seed=1)
    upload_id = str(uuid.uuid4())
    token = store.upload_start(upload_id)
    offset = 0
    for size in (100, 3 << 20, PART + 7, 1, 2 << 20):
        writer = store.upload_writer(upload_id, offset, token)
        writer.write(data[offset : offset + size])
        token = writer.sync()
        writer.close()
        offset += size
    # Written but never acknowledged: dropped by the next writer at the acknowledged offset.
    writer = store.upload_writer(upload_id, offset, token)
    writer.write(b"x" * (PART + 1))
    writer.close()
    assert [u for u, _ in store.upload_ids()] == [upload_id]
    writer = store.upload_writer(upload_id, offset, token)
    writer.write(data[offset:])
    writer.commit(digest, verified=False)
    writer.close()
    assert store.stat(digest).size == len(data)
    assert _read(store, digest) == data
    assert list(store.upload_ids()) == []
    assert [info.digest for info in store.walk()] == [digest]


def test_a_digest_mismatch_leaves_nothing_behind(store: BlobStore) -> None:
    for size in (10, PART + 10):  # a single PUT, and a multipart upload
        data, digest = _blob(size, seed=size)
        upload_id = str(uuid.uuid4())
        writer = store.upload_writer(upload_id, 0, store.upload_start(upload_id))
        writer.write(data[:-1] + b"!")
        with pytest.raises(DigestInvalid):
            writer.commit(digest, verified=False)
        writer.close()
        assert list(store.upload_ids()) == []
        assert list(store.walk()) == []


def test_discard_removes_an_upload(store: BlobStore) -> None:
    upload_id = str(uuid.uuid4())
    writer = store.upload_writer(upload_id, 0, store.upload_start(upload_id))
    writer.write(b"y" * (PART + 3))
    token = writer.sync()
    writer.close()
    store.upload_discard(upload_id)
    store.upload_discard(upload_id)
    assert list(store.upload_ids()) == []
    with pytest.raises(BlobNotFound):
        store.upload_writer(upload_id, PART + 3, token)


def test_two_managers_continue_each_others_uploads(store: BlobStore, tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'meta.db'}")
    migrate(engine)
    with engine.begin() as conn:
        repo = metadata.create_repo(conn, RepoName("r"), 0.0)
    first, second = (UploadManager(engine, store, lambda: 1.0) for _ in range(2))
    data, digest = _blob(PART + 999, seed=7)
    state = first.start(repo.id)
    cut = [0, 4 << 20, PART + 500]
    for n, (a, b) in enumerate(itertools.pairwise(cut)):
        manager = (first, second)[n % 2]
        appender = manager.open(manager.state(repo.id, state.id), a)
        appender.write(data[a:b])
        manager.ack(appender)
    # `first` did not see the middle chunk: its running hash cannot be used.
    appender = first.open(first.state(repo.id, state.id), cut[-1])
    appender.write(data[cut[-1] :])
    assert first.finish(appender, digest, len(data)) == digest
    assert _read(store, digest) == data
    with engine.connect() as conn:
        assert conn.execute(sa.select(uploads_table)).all() == []
    # A wrong digest through a manager that lacks the hash: no blob, no session, no parts.
    other, wrong = _blob(PART + 1, seed=8)
    state = second.start(repo.id)
    appender = second.open(state, 0)
    appender.write(other[:100])
    second.ack(appender)
    appender = first.open(first.state(repo.id, state.id), 100)
    appender.write(other[100:] + b"?")
    with pytest.raises(DigestInvalid):
        first.finish(appender, wrong, None)
    with pytest.raises(BlobUploadUnknown):
        first.state(repo.id, state.id)
    assert list(store.upload_ids()) == []
    assert [info.digest for info in store.walk()] == [digest]
    engine.dispose()


def test_an_empty_put_on_another_process_is_verified_without_reading_the_blob(
    store: BlobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """POST on one process, PATCH on another, PUT on the first: skopeo's pattern under
    `serve --workers`. The acknowledged digest in the session row stands for the bytes."""
    engine = create_engine(f"sqlite:///{tmp_path / 'meta.db'}")
    migrate(engine)
    with engine.begin() as conn:
        repo = metadata.create_repo(conn, RepoName("r"), 0.0)
    first, second = (UploadManager(engine, store, lambda: 1.0) for _ in range(2))
    installs: list[bool] = []
    open_writer = store.upload_writer

    def recording_writer(upload_id: str, offset: int, token: str) -> UploadWriter:
        writer = open_writer(upload_id, offset, token)
        commit = writer.commit

        def recording(digest: Digest, *, verified: bool) -> None:
            installs.append(verified)  # False would make the store read the blob back
            commit(digest, verified=verified)

        monkeypatch.setattr(writer, "commit", recording)
        return writer

    monkeypatch.setattr(store, "upload_writer", recording_writer)
    data, digest = _blob(PART + 77, seed=9)
    other, _ = _blob(100, seed=10)
    for blob, claimed in ((other, digest), (data, digest)):
        state = first.start(repo.id)
        appender = second.open(second.state(repo.id, state.id), 0)
        appender.write(blob)
        second.ack(appender)
        appender = first.open(first.state(repo.id, state.id), len(blob))
        if blob is other:
            # The recorded digest is the bytes', not the claim's: a wrong claim is refused.
            with pytest.raises(DigestInvalid):
                first.finish(appender, claimed, None)
            continue
        assert first.finish(appender, claimed, len(blob)) == digest
    assert installs == [True]
    assert _read(store, digest) == data
    assert list(store.upload_ids()) == []
    engine.dispose()


def test_redirect_url(store: BlobStore) -> None:
    data, digest = _blob(500, seed=3)
    store.put(digest, data)
    url = store.redirect_url(digest)
    if isinstance(store, FilesystemBlobStore):
        assert url is None
        return
    assert url is not None
    answer = httpx.get(url, headers={"Range": "bytes=10-19"})
    assert answer.status_code == 206
    assert answer.content == data[10:20]
    assert httpx.get(url).content == data


@pytest.mark.s3
def test_redirect_off_means_proxied(seaweed: SeaweedS3) -> None:
    assert (
        S3BlobStore(_section(seaweed, redirect=False)).redirect_url(Digest("sha256:" + "a" * 64))
        is None
    )


@pytest.mark.s3
def test_a_missing_bucket_or_endpoint_is_unavailable(seaweed: SeaweedS3) -> None:
    missing = S3BlobStore(_section(seaweed, bucket="no-such-bucket"))
    with pytest.raises(StorageUnavailable, match="no bucket"):
        missing.ready()
    with pytest.raises(StorageUnavailable, match="no bucket"):
        missing.stat(Digest("sha256:" + "b" * 64))
    with pytest.raises(StorageUnavailable):
        missing.put(Digest("sha256:" + "b" * 64), b"x")
    from tests.support.server import free_port

    closed = f"http://127.0.0.1:{free_port()}"
    unreachable = S3BlobStore(_section(seaweed, endpoint_url=closed))
    with pytest.raises(StorageUnavailable, match="cannot be reached"):
        unreachable.ready()
    with pytest.raises(StorageUnavailable, match="cannot be reached"):
        unreachable.open(Digest("sha256:" + "c" * 64))


def test_filesystem_ready_names_the_problem(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path / "blobs")
    store.ready()
    os.chmod(tmp_path / "blobs" / "uploads", 0o500)
    try:
        if os.geteuid() == 0:  # root writes anywhere: the probe cannot see a mode problem
            (tmp_path / "blobs" / "uploads").rmdir()
        with pytest.raises(StorageUnavailable, match="uploads"):
            store.ready()
    finally:
        if (tmp_path / "blobs" / "uploads").exists():
            os.chmod(tmp_path / "blobs" / "uploads", 0o700)


def test_racing_chunks_on_two_processes_keep_one(store: BlobStore, tmp_path: Path) -> None:
    """Two replicas appending at the same offset: the first acknowledgement wins."""
    engine = create_engine(f"sqlite:///{tmp_path / 'meta.db'}")
    migrate(engine)
    with engine.begin() as conn:
        repo = metadata.create_repo(conn, RepoName("r"), 0.0)
    first, second = (UploadManager(engine, store, lambda: 1.0) for _ in range(2))
    state = first.start(repo.id)
    mine = first.open(state, 0)
    mine.write(b"mine")
    try:  # the filesystem refuses the second writer at once (a lock), S3 at its ack
        theirs = second.open(second.state(repo.id, state.id), 0)
    except BlobUploadInvalid:
        assert isinstance(store, FilesystemBlobStore)
        first.ack(mine)
    else:
        theirs.write(b"theirs")
        first.ack(mine)
        with pytest.raises(BlobUploadInvalid, match="same time"):
            second.ack(theirs)
    appender = second.open(second.state(repo.id, state.id), 4)
    assert second.finish(appender, digest_bytes(b"mine"), 4) == digest_bytes(b"mine")
    assert _read(store, digest_bytes(b"mine")) == b"mine"
    engine.dispose()
