"""Blob store on a local filesystem: fsync, then atomic rename into place."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from tidegate.errors import BlobNotFound, DigestInvalid
from tidegate.oci.digest import Digest, parse_digest
from tidegate.registry.storage import paths
from tidegate.registry.storage.base import BlobInfo


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileUploadWriter:
    def __init__(self, path: Path, offset: int) -> None:
        self._fh = path.open("r+b")
        self._fh.truncate(offset)
        self._fh.seek(offset)

    def write(self, chunk: bytes) -> None:
        self._fh.write(chunk)

    def sync(self) -> None:
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()


class FilesystemBlobStore:
    """`BlobStore` over a directory tree (layout in `paths`)."""

    name = "filesystem"

    def __init__(self, root: Path) -> None:
        self.root = root
        for sub in ("blobs", "uploads", "tmp"):
            (root / sub).mkdir(parents=True, exist_ok=True)

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

    def upload_start(self, upload_id: str) -> None:
        directory = paths.upload_dir(self.root, upload_id)
        directory.mkdir(parents=True)
        paths.upload_data(self.root, upload_id).touch()
        _fsync_dir(directory)

    def upload_size(self, upload_id: str) -> int:
        try:
            return paths.upload_data(self.root, upload_id).stat().st_size
        except FileNotFoundError as exc:
            raise BlobNotFound(upload_id) from exc

    def upload_writer(self, upload_id: str, offset: int) -> FileUploadWriter:
        path = paths.upload_data(self.root, upload_id)
        if not path.exists():
            raise BlobNotFound(upload_id)
        return FileUploadWriter(path, offset)

    def upload_reader(self, upload_id: str) -> BinaryIO:
        try:
            return paths.upload_data(self.root, upload_id).open("rb")
        except FileNotFoundError as exc:
            raise BlobNotFound(upload_id) from exc

    def upload_commit(self, upload_id: str, digest: Digest) -> None:
        source = paths.upload_data(self.root, upload_id)
        target = paths.blob_path(self.root, digest)
        if target.exists():
            # Same digest, same bytes: keep the existing file, drop the duplicate upload.
            self.upload_discard(upload_id)
            return
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
