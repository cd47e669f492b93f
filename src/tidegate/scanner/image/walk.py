"""Stream one layer's tar exactly once, keeping only the files someone asked for.

The walk records whiteouts, opaque directories and symlinks (needed to merge layers), spools
each wanted regular file to a generated name in scratch space (member names never become
host paths), and turns every bad member into a warning rather than a crash.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from posixpath import join
from typing import BinaryIO

from tidegate.scanner.analyzers.base import FileInfo
from tidegate.scanner.image.errors import ScanFailed
from tidegate.scanner.image.limits import Limits, Usage
from tidegate.scanner.image.paths import (
    OPAQUE_MARKER,
    WHITEOUT_PREFIX,
    PathRejected,
    normalize_member,
)
from tidegate.scanner.image.selection import Selector, SelectorIndex
from tidegate.scanner.image.tarstream import HARDLINK, SYMLINK, TarEntry, TarReader

_CHUNK = 1 << 20
_MEMORY_FILE = 1 << 20
_MEMORY_TOTAL = 64 << 20


@dataclass(slots=True)
class LayerWalk:
    """What one pass over a layer found; `wanted` maps path -> selector names."""

    spooled: dict[str, Path | bytes] = field(default_factory=dict)  # small files in memory
    infos: dict[str, FileInfo] = field(default_factory=dict)
    wanted: dict[str, list[str]] = field(default_factory=dict)
    whiteouts: list[str] = field(default_factory=list)
    opaques: list[str] = field(default_factory=list)
    symlinks: dict[str, str] = field(default_factory=dict)
    warnings: list[tuple[str, str, str]] = field(default_factory=list)  # path, selector, reason
    spool_bytes: int = 0
    memory_bytes: int = 0


def _copy_exact(src: TarReader, dst: Path, size: int) -> None:
    with dst.open("wb") as out:
        remaining = size
        while remaining > 0:
            chunk = src.read(min(_CHUNK, remaining))
            if not chunk:
                raise ScanFailed("truncated tar: file data ends early")
            out.write(chunk)
            remaining -= len(chunk)


class _Walker:
    def __init__(
        self, selectors: Sequence[Selector], scratch: Path, limits: Limits, reader: TarReader
    ) -> None:
        self.reader = reader
        self.index = SelectorIndex(selectors)
        self.scratch = scratch
        self.limits = limits
        self.out = LayerWalk()
        self.counter = 0

    def member(self, m: TarEntry) -> None:
        try:
            path = normalize_member(m.name)
        except PathRejected as exc:
            self.out.warnings.append((m.name, "", str(exc)))
            return
        if not path:
            return
        parent, _, base = path.rpartition("/")
        if base.startswith(WHITEOUT_PREFIX):
            if base == OPAQUE_MARKER:
                self.out.opaques.append(parent)
            else:
                self.out.whiteouts.append(join(parent, base[len(WHITEOUT_PREFIX) :]))
            return
        if m.type == SYMLINK:
            self.out.symlinks[path] = m.linkname
            return
        if m.type == HARDLINK:
            self.hardlink(path, m)
            return
        if not m.isreg():
            return
        candidates = self.index.candidates(path, m.mode)
        if not candidates:
            return
        info = FileInfo(size=m.size, mode=m.mode)
        names = self._accepting(path, info, candidates)
        if not names:
            return
        if self.out.spool_bytes + m.size > self.limits.max_spool_bytes:
            self.out.warnings.append((path, "", "scratch space limit reached; file skipped"))
            return
        self.out.spool_bytes += m.size
        if m.size <= _MEMORY_FILE and self.out.memory_bytes + m.size <= _MEMORY_TOTAL:
            # Small files stay in memory: most wanted files are small, and a file per
            # executable would cost more in open() calls than the analysis itself.
            data = self.reader.read(m.size)
            if len(data) != m.size:
                raise ScanFailed("truncated tar: file data ends early")
            self.out.memory_bytes += m.size
            self.out.spooled[path] = data
        else:
            self.counter += 1
            dest = self.scratch / f"f{self.counter:07d}"
            _copy_exact(self.reader, dest, m.size)
            self.out.spooled[path] = dest
        self.out.infos[path] = info
        self.out.wanted[path] = names

    def select(self, path: str, info: FileInfo) -> list[str]:
        return self._accepting(path, info, self.index.candidates(path, info.mode))

    def _accepting(self, path: str, info: FileInfo, candidates: Sequence[Selector]) -> list[str]:
        names: list[str] = []
        if not candidates:
            return names
        pure = PurePosixPath(path)
        for sel in candidates:
            if not sel.required(pure, info):
                continue
            if info.size > sel.max_file_size:
                reason = f"file of {info.size} bytes exceeds the {sel.max_file_size}-byte limit"
                self.out.warnings.append((path, sel.name, reason))
                continue
            names.append(sel.name)
        return names

    def hardlink(self, path: str, m: TarEntry) -> None:
        try:
            target = normalize_member(m.linkname)
        except PathRejected:
            self.out.warnings.append((path, "", "hard link points outside the image"))
            return
        src = self.out.spooled.get(target)
        info = self.out.infos.get(target)
        if src is None or info is None:
            if self.select(path, FileInfo(size=0)):
                reason = f"hard link to {target}, which this layer did not keep"
                self.out.warnings.append((path, "", reason))
            return
        names = self.select(path, info)
        if names:
            self.out.spooled[path] = src  # read-only for analyzers, so sharing is safe
            self.out.infos[path] = info
            self.out.wanted[path] = names


def walk_layer(
    stream: BinaryIO,
    selectors: Sequence[Selector],
    scratch: Path,
    limits: Limits,
    usage: Usage | None = None,
) -> LayerWalk:
    """Read the tar stream once; raises `ScanFailed` if the tar itself is unreadable.

    Every entry counts against the image's `max_files` budget in `usage`.
    """
    usage = usage or Usage(limits)
    reader = TarReader(stream)
    walker = _Walker(selectors, scratch, limits, reader)
    for m in reader:
        usage.charge_file()
        walker.member(m)
    return walker.out
