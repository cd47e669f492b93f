"""Payloads: the files of a source read from a directory, a zip, a tar(.xz/.gz) or JSON file.

Archives are streamed member by member and never unpacked to disk.
"""

from __future__ import annotations

import lzma
import os
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from tidegate.scanner.vulndb.updaters.base import Member, Payload, UpdaterError

_ARCHIVE_ERRORS = (tarfile.TarError, zipfile.BadZipFile, EOFError, lzma.LZMAError, zlib.error)


class DirPayload:
    """Every regular file under a directory, in sorted path order."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def members(self) -> Iterator[Member]:
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames.sort()
            for fname in sorted(filenames):
                full = Path(dirpath) / fname
                rel = full.relative_to(self.root).as_posix()
                yield Member(rel, full.read_bytes)

    def close(self) -> None:
        return None


class FilesPayload:
    """A fixed list of (name, file) pairs, e.g. downloaded per-branch JSON files."""

    def __init__(self, files: list[tuple[str, Path]], *, owned: bool = False) -> None:
        self.files = files
        self.owned = owned

    def members(self) -> Iterator[Member]:
        for name, path in self.files:
            yield Member(name, path.read_bytes)

    def close(self) -> None:
        if self.owned:
            for _, path in self.files:
                path.unlink(missing_ok=True)


class TarPayload:
    """A tar archive (any compression tarfile knows) read as a forward-only stream."""

    def __init__(self, path: Path, *, owned: bool = False) -> None:
        self.path = path
        self.owned = owned

    def members(self) -> Iterator[Member]:
        try:
            # "r:*" decompresses sequentially like stream mode but its reads are ~3x cheaper;
            # only the small TarInfo headers are kept in memory.
            with self.path.open("rb") as raw, tarfile.open(fileobj=raw, mode="r:*") as tar:
                for info in tar:
                    if not info.isfile():
                        continue
                    fh = tar.extractfile(info)
                    if fh is None:
                        continue
                    # Read now: the archive is read forward only, the parser comes later.
                    data = fh.read()
                    if len(data) != info.size:
                        msg = f"{self.path.name}: member {info.name} is truncated"
                        raise UpdaterError(msg)
                    yield Member(info.name, _const(data))
        except (*_ARCHIVE_ERRORS, OSError) as exc:
            msg = f"{self.path.name}: corrupt or truncated tar archive: {exc}"
            raise UpdaterError(msg) from exc

    def close(self) -> None:
        if self.owned:
            self.path.unlink(missing_ok=True)


class ZipPayload:
    """A zip archive; the central directory is checked when the payload is opened."""

    def __init__(self, path: Path, *, owned: bool = False) -> None:
        self.path = path
        self.owned = owned
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            self.close()
            msg = f"{path.name}: not a readable zip archive: {exc}"
            raise UpdaterError(msg) from exc

    def members(self) -> Iterator[Member]:
        for info in self._zip.infolist():
            if info.is_dir():
                continue
            try:
                data = self._zip.read(info)
            except (*_ARCHIVE_ERRORS, OSError) as exc:
                msg = f"{self.path.name}: corrupt zip member {info.filename}: {exc}"
                raise UpdaterError(msg) from exc
            yield Member(info.filename, _const(data))

    def close(self) -> None:
        zf = getattr(self, "_zip", None)
        if zf is not None:
            zf.close()
        if self.owned:
            self.path.unlink(missing_ok=True)


def _const(data: bytes) -> _Bytes:
    return _Bytes(data)


class _Bytes:
    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __call__(self) -> bytes:
        return self.data


def sniff_kind(head: bytes, name: str) -> str:
    """`zip`, `tar` or `file`, from the magic bytes first and the name second."""
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06") or name.endswith(".zip"):
        return "zip"
    if head.startswith((b"\xfd7zXZ", b"\x1f\x8b", b"BZh")) or ".tar" in name:
        return "tar"
    return "file"


def open_payload(path: Path, name: str, *, owned: bool = False) -> Payload:
    """Open a local directory or file as a payload, choosing the reader by content."""
    if path.is_dir():
        return DirPayload(path)
    with path.open("rb") as fh:
        head = _head(fh)
    kind = sniff_kind(head, name)
    if kind == "zip":
        return ZipPayload(path, owned=owned)
    if kind == "tar":
        return TarPayload(path, owned=owned)
    return FilesPayload([(name, path)], owned=owned)


def _head(fh: IO[bytes]) -> bytes:
    return fh.read(8)
