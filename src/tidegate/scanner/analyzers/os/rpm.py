"""rpm databases in all three backends; the backend is chosen by file name."""

from __future__ import annotations

import mmap
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import ClassVar

from tidegate.scanner.analyzers.base import (
    AnalyzerError,
    AnalyzerInput,
    FileInfo,
    Prefilter,
    register,
)
from tidegate.scanner.analyzers.os.rpmdb import bdb_blobs, ndb_blobs, sqlite_blobs
from tidegate.scanner.analyzers.os.rpmheader import parse_header, split_sourcerpm
from tidegate.scanner.model import Package, PackageManager

DB_DIRS = (PurePosixPath("var/lib/rpm"), PurePosixPath("usr/lib/sysimage/rpm"))
DB_FILES = ("rpmdb.sqlite", "Packages.db", "Packages")


@register
class RpmAnalyzer:
    """Installed rpms; `gpg-pubkey` pseudo-packages (imported keys) are left out."""

    name: ClassVar[str] = "os/rpm"
    version: ClassVar[int] = 1
    max_file_size: ClassVar[int] = 1 << 30
    prefilter: ClassVar[Prefilter] = Prefilter(
        paths=frozenset(str(d / f) for d in DB_DIRS for f in DB_FILES)
    )

    def required(self, path: PurePosixPath, info: FileInfo) -> bool:
        return path.name in DB_FILES and path.parent in DB_DIRS

    def _blobs(self, file: AnalyzerInput) -> list[bytes]:
        if file.path.name == "rpmdb.sqlite":
            return list(sqlite_blobs(file.local_path()))
        if file.info.size == 0:
            msg = "empty rpm database file"
            raise AnalyzerError(msg)
        parse = ndb_blobs if file.path.name == "Packages.db" else bdb_blobs
        # Mapped, not read: a BerkeleyDB file can be hundreds of MiB, and only the pages
        # holding headers are ever touched.
        with (
            file.local_path().open("rb") as fh,
            mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data,
        ):
            return list(parse(data))  # type: ignore[arg-type]

    def analyze(self, file: AnalyzerInput) -> Iterable[Package]:
        found = []
        for blob in self._blobs(file):
            hdr = parse_header(blob)
            if hdr.name == "gpg-pubkey":
                continue
            src_name, src_version = split_sourcerpm(hdr.sourcerpm)
            found.append(
                Package(
                    name=hdr.name,
                    version=hdr.evr,
                    ecosystem="Red Hat",
                    package_manager=PackageManager.OS,
                    path=str(file.path),
                    source_name=src_name,
                    source_version=src_version,
                    arch=hdr.arch,
                    licenses=(hdr.license,) if hdr.license else (),
                )
            )
        return found
