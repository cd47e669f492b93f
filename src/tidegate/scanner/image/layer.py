"""Analyze one layer: one streaming walk, then each wanted file handed to its analyzers."""

from __future__ import annotations

import io
import os
import sqlite3
import struct
import tempfile
import zlib
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from tidegate.scanner.analyzers.base import (
    Analyzer,
    AnalyzerError,
    AnalyzerInput,
    FileInfo,
    Prefilter,
)
from tidegate.scanner.analyzers.os.release import DISTRO_FILES, MAX_DISTRO_FILE
from tidegate.scanner.image.decompress import open_tar_stream
from tidegate.scanner.image.limits import BudgetExceeded, Limits, Usage
from tidegate.scanner.image.results import AnalyzerResult, LayerFacts
from tidegate.scanner.image.selection import Selector
from tidegate.scanner.image.walk import LayerWalk, walk_layer
from tidegate.scanner.model import Package, ScanWarning

DISTRO_SELECTOR = "_distro"
_DISTRO_SET = frozenset(DISTRO_FILES)
_DISTRO_PREFILTER = Prefilter(paths=_DISTRO_SET)
# What a parser may raise on garbage; anything else is a bug and should surface.
_PARSE_ERRORS = (
    AnalyzerError,
    ValueError,
    KeyError,
    IndexError,
    struct.error,
    sqlite3.Error,
    zlib.error,
    OSError,
    EOFError,
)


def _distro_required(path: PurePosixPath, info: FileInfo) -> bool:
    return str(path) in _DISTRO_SET


def _input(rel: str, spool: Path | bytes, info: FileInfo, scratch: Path) -> AnalyzerInput:
    if isinstance(spool, Path):
        local = spool

        def open_() -> BinaryIO:
            return local.open("rb")

        def local_path() -> Path:
            return local

        return AnalyzerInput(PurePosixPath(rel), info, open_, local_path)
    data = spool
    written: list[Path] = []

    def open_memory() -> BinaryIO:
        return io.BytesIO(data)

    def materialise() -> Path:
        # Only readers that need a real path (SQLite) pay for a scratch file.
        if not written:
            fd, name = tempfile.mkstemp(dir=scratch)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            written.append(Path(name))
        return written[0]

    return AnalyzerInput(PurePosixPath(rel), info, open_memory, materialise)


def _run(
    analyzers: Sequence[Analyzer], walk: LayerWalk, digest: str, scratch: Path
) -> dict[str, AnalyzerResult]:
    by_name = {a.name: a for a in analyzers}
    files: dict[str, dict[str, tuple[Package, ...] | None]] = {name: {} for name in by_name}
    warnings: dict[str, list[ScanWarning]] = {name: [] for name in by_name}
    for path, names in walk.wanted.items():
        wanting = [by_name[name] for name in names if name in by_name]
        if not wanting:
            continue
        # One input per file, shared by all its analyzers: what one of them derives from the
        # bytes (parsed ELF headers) the next one reuses, and dies with the input.
        item = _input(path, walk.spooled[path], walk.infos[path], scratch)
        for analyzer in wanting:
            try:
                files[analyzer.name][path] = tuple(analyzer.analyze(item))
            except _PARSE_ERRORS as exc:
                files[analyzer.name][path] = None
                reason = str(exc) or repr(exc)
                warnings[analyzer.name].append(ScanWarning(path, digest, analyzer.name, reason))
    for path, selector, reason in walk.warnings:
        if selector in by_name:
            files[selector][path] = None
            warnings[selector].append(ScanWarning(path, digest, selector, reason))
    return {name: AnalyzerResult(files[name], tuple(warnings[name])) for name in by_name}


def _bytes(spool: Path | bytes) -> bytes:
    return spool.read_bytes() if isinstance(spool, Path) else spool


def selectors_for(analyzers: Sequence[Analyzer], limits: Limits | None = None) -> list[Selector]:
    """The distro-file selector every walk needs, then one selector per analyzer.

    No file larger than the `max_metadata_file_bytes` budget reaches an analyzer.
    """
    cap = (limits or Limits()).max_metadata_file_bytes
    distro = Selector(
        DISTRO_SELECTOR, _distro_required, min(MAX_DISTRO_FILE, cap), _DISTRO_PREFILTER
    )
    return [distro] + [
        Selector(a.name, a.required, min(a.max_file_size, cap), a.prefilter) for a in analyzers
    ]


def analyze_layer(
    blob: BinaryIO,
    digest: str,
    analyzers: Sequence[Analyzer],
    scratch_root: Path,
    limits: Limits,
    usage: Usage | None = None,
) -> tuple[LayerFacts, dict[str, AnalyzerResult]]:
    """Walk the layer blob once; spooled files live only for the duration of this call.

    `usage` carries the scan's consumption across layers; a budget exceeded names the layer.
    """
    selectors = selectors_for(analyzers, limits)
    usage = usage or Usage(limits)
    with tempfile.TemporaryDirectory(prefix="layer-", dir=scratch_root) as tmp:
        try:
            stream = open_tar_stream(blob, limits, usage)
            walk = walk_layer(stream, selectors, Path(tmp), limits, usage)
        except BudgetExceeded as exc:
            raise exc.in_layer(digest) from exc
        distro_files = {
            path: _bytes(walk.spooled[path])
            for path, names in walk.wanted.items()
            if DISTRO_SELECTOR in names
        }
        results = _run(analyzers, walk, digest, Path(tmp))
    facts = LayerFacts(
        whiteouts=tuple(walk.whiteouts),
        opaques=tuple(walk.opaques),
        symlinks=walk.symlinks,
        distro_files=distro_files,
        warnings=tuple(
            ScanWarning(path, digest, sel, reason)
            for path, sel, reason in walk.warnings
            if sel in ("", DISTRO_SELECTOR)
        ),
    )
    return facts, results
