"""Walking Java archives and the archives nested in them, within hard resource limits.

A jar is untrusted input: its headers may lie about sizes (zip bombs), it may nest archives
without end, or hold millions of entries. Every byte decompressed counts against one budget
per top-level file, nested archives are spooled (to scratch space once large), and breaking
any limit is an `AnalyzerError` for the whole file.
"""

from __future__ import annotations

import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from tidegate.scanner.analyzers.base import AnalyzerError
from tidegate.scanner.analyzers.lang.java_metadata import is_archive_name, is_pom_properties

MAX_DEPTH = 4  # Spring Boot needs 1, an ear of wars of jars 2
MAX_ENTRIES = 100_000  # per archive; big fat jars hold ~30k
MAX_METADATA = 1 << 20  # a pom.properties or MANIFEST.MF larger than this is not honest
MAX_RATIO = 200  # deflate tops out near 1032:1; real jars sit well under 20:1
_RATIO_FLOOR = 1 << 20  # tiny entries may compress absurdly well, that is harmless
_SPOOL_IN_MEMORY = 8 << 20
_CHUNK = 1 << 16
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError)
_ENTRY_ERRORS = (*_ZIP_ERRORS, NotImplementedError, RuntimeError, ValueError)


@dataclass(slots=True)
class Budget:
    """Decompressed bytes still allowed for one top-level file (shared across nesting)."""

    remaining: int


@dataclass(frozen=True, slots=True)
class ArchiveEntries:
    """What the analyzer needs from one archive: its metadata files and its location."""

    location: str  # "app.jar" or "app.jar!/BOOT-INF/lib/x.jar"
    file_name: str  # last path component of the archive itself
    pom_properties: tuple[str, ...]
    manifest: str


def _check_ratio(info: zipfile.ZipInfo) -> None:
    if info.file_size > _RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        msg = f"zip bomb: {info.filename} claims {info.file_size} bytes from {info.compress_size}"
        raise AnalyzerError(msg)


def _read_entry(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, out: IO[bytes], limit: int, budget: Budget
) -> None:
    _check_ratio(info)
    written = 0
    with archive.open(info) as member:
        while chunk := member.read(_CHUNK):
            written += len(chunk)
            budget.remaining -= len(chunk)
            if budget.remaining < 0:
                msg = "archive decompresses to more than the analyzer's byte budget"
                raise AnalyzerError(msg)
            if written > limit:
                msg = f"{info.filename} is larger than {limit} bytes"
                raise AnalyzerError(msg)
            out.write(chunk)


def _read_text(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget) -> str:
    with tempfile.SpooledTemporaryFile(max_size=MAX_METADATA + 1) as buf:
        _read_entry(archive, info, buf, MAX_METADATA, budget)
        buf.seek(0)
        return buf.read().decode("utf-8", "replace")


def walk_archive(
    stream: IO[bytes], location: str, file_name: str, budget: Budget, depth: int = 0
) -> Iterator[ArchiveEntries]:
    """Yield this archive's metadata, then that of every nested archive, depth first."""
    if depth > MAX_DEPTH:
        msg = f"archives nested more than {MAX_DEPTH} deep at {location}"
        raise AnalyzerError(msg)
    try:
        with zipfile.ZipFile(stream) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_ENTRIES:
                msg = f"{location} has more than {MAX_ENTRIES} entries"
                raise AnalyzerError(msg)
            yield from _walk_open(archive, infos, location, file_name, budget, depth)
    except _ENTRY_ERRORS as exc:
        msg = f"unreadable archive {location}: {exc}"
        raise AnalyzerError(msg) from exc


def _walk_open(
    archive: zipfile.ZipFile,
    infos: list[zipfile.ZipInfo],
    location: str,
    file_name: str,
    budget: Budget,
    depth: int,
) -> Iterator[ArchiveEntries]:
    poms = tuple(_read_text(archive, i, budget) for i in infos if is_pom_properties(i.filename))
    manifest = next(
        (_read_text(archive, i, budget) for i in infos if i.filename == "META-INF/MANIFEST.MF"),
        "",
    )
    yield ArchiveEntries(location, file_name, poms, manifest)
    for info in infos:
        if info.is_dir() or not is_archive_name(info.filename):
            continue
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as nested:
            _read_entry(archive, info, nested, budget.remaining, budget)
            nested.seek(0)
            inner = f"{location}!/{info.filename}"
            yield from walk_archive(
                nested, inner, info.filename.rsplit("/", 1)[-1], budget, depth + 1
            )
