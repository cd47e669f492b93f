"""Blob store on a local filesystem: fsync, then atomic rename into place."""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from tidegate.errors import BlobNotFound, BlobUploadInvalid, DigestInvalid, StorageUnavailable
from tidegate.oci.digest import Digest, algorithm_of, digest_stream, parse_digest
from tidegate.registry.storage import paths
from tidegate.registry.storage.base import BlobInfo


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileUploadWriter:
    """Appends to `uploads/<id>/data`; the file itself is the upload's whole state."""

    blocking = False

    def __init__(self, store: FilesystemBlobStore, upload_id: str, offset: int) -> None:
        self._store = store
        self._upload_id = upload_id
        self._fh = paths.upload_data(store.root, upload_id).open("r+b")
        try:
            # Across processes (`--workers`, replicas on one volume) one writer at a time;
            # the kernel drops the lock if the holder dies.
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._fh.close()
            msg = f"upload {upload_id!r} is receiving another chunk"
            raise BlobUploadInvalid(msg) from None
        self._fh.truncate(offset)
        self._fh.seek(offset)

    def write(self, chunk: bytes) -> None:
        self._fh.write(chunk)

    def sync(self) -> str:
        self._fh.flush()
        os.fsync(self._fh.fileno())
        return ""

    def commit(self, digest: Digest, *, verified: bool) -> None:
        self.sync()
        self._fh.close()
        self._store.install_upload(self._upload_id, digest, verified=verified)

    def close(self) -> None:
        self._fh.close()


class FilesystemBlobStore:
    """`BlobStore` over a directory tree (layout in `paths`)."""

    name = "filesystem"

    def __init__(self, root: Path) -> None:
        self.root = root
        for sub in ("blobs", "uploads", "tmp"):
            (root / sub).mkdir(parents=True, exist_ok=True)

    def ready(self) -> None:
        for sub in ("blobs", "uploads", "tmp"):
            if not os.access(self.root / sub, os.W_OK | os.X_OK):
                raise StorageUnavailable(f"the blob directory {sub}/ is not writable")

    def stat(self, digest: Digest) -> BlobInfo:
        try:
            st = paths.blob_path(self.root, digest).stat()
        except FileNotFoundError as exc:
            raise BlobNotFound(digest) from exc
        return BlobInfo(digest, st.st_size, st.st_mtime)

    def open(self, digest: Digest) -> BinaryIO:
        try:
            return paths.blob_path(self.root, digest).open("rb")
        except FileNotFoundError as exc:
            raise BlobNotFound(digest) from exc

    def redirect_url(self, digest: Digest) -> str | None:
        return None

    def put(self, digest: Digest, data: bytes) -> None:
        target = paths.blob_path(self.root, digest)
        if target.exists():
            return
        fd, tmp = tempfile.mkstemp(dir=paths.tmp_dir(self.root))
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            self._install(Path(tmp), target)
        finally:
            Path(tmp).unlink(missing_ok=True)

    def _install(self, source: Path, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        _fsync_dir(target.parent)

    def delete(self, digest: Digest) -> None:
        paths.blob_path(self.root, digest).unlink(missing_ok=True)

    def walk(self) -> Iterator[BlobInfo]:
        base = self.root / "blobs"
        for algo_dir in sorted(base.iterdir()):
            for fan in sorted(algo_dir.iterdir()):
                for entry in sorted(fan.iterdir()):
                    try:
                        digest = parse_digest(f"{algo_dir.name}:{entry.name}")
                        st = entry.stat()
                    except (FileNotFoundError, DigestInvalid):  # vanished, or a foreign file
                        continue
                    yield BlobInfo(digest, st.st_size, st.st_mtime)

    def upload_start(self, upload_id: str) -> str:
        directory = paths.upload_dir(self.root, upload_id)
        directory.mkdir(parents=True)
        paths.upload_data(self.root, upload_id).touch()
        _fsync_dir(directory)
        return ""

    def upload_writer(self, upload_id: str, offset: int, token: str) -> FileUploadWriter:
        path = paths.upload_data(self.root, upload_id)
        try:
            on_disk = path.stat().st_size
        except FileNotFoundError as exc:
            raise BlobNotFound(upload_id) from exc
        if on_disk < offset:  # acknowledged bytes vanished (disk trouble)
            raise BlobNotFound(upload_id)
        return FileUploadWriter(self, upload_id, offset)

    def install_upload(self, upload_id: str, digest: Digest, *, verified: bool) -> None:
        """The upload's file becomes the blob (after hashing it unless `verified`)."""
        source = paths.upload_data(self.root, upload_id)
        if not verified:
            with source.open("rb") as fh:
                actual = digest_stream(fh, algorithm_of(digest))
            if actual != digest:
                self.upload_discard(upload_id)
                msg = f"content digest {actual} does not match {digest}"
                raise DigestInvalid(msg, detail={"digest": digest})
        target = paths.blob_path(self.root, digest)
        if not target.exists():
            # Same digest, same bytes: an existing file is kept, the duplicate dropped.
            self._install(source, target)
        self.upload_discard(upload_id)

    def upload_discard(self, upload_id: str) -> None:
        shutil.rmtree(paths.upload_dir(self.root, upload_id), ignore_errors=True)

    def upload_ids(self) -> Iterator[tuple[str, float]]:
        for entry in sorted((self.root / "uploads").iterdir()):
            try:
                yield entry.name, entry.stat().st_mtime
            except FileNotFoundError:
                continue
