"""An analyzer plugin that misbehaves on demand, to drive every way analysis can fail.

It is loaded only inside analysis child processes, by name (the `analyzer_plugins`
setting), never imported by the test process itself: registering it there would add it to
every other test's analyzer set. It wants the file `/fault` and does what the file says.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import ClassVar

from tidegate.scanner.analyzers.base import AnalyzerInput, FileInfo, Prefilter, register
from tidegate.scanner.model import Package

FAULT_FILE = "fault"


def _recurse(depth: int) -> int:
    return _recurse(depth + 1) + 1


@register
class FaultyAnalyzer:
    name: ClassVar[str] = "test/faulty"
    version: ClassVar[int] = 1
    max_file_size: ClassVar[int] = 4096
    prefilter: ClassVar[Prefilter] = Prefilter(paths=frozenset({FAULT_FILE}))

    def required(self, path: PurePosixPath, info: FileInfo) -> bool:
        return str(path) == FAULT_FILE

    def analyze(self, file: AnalyzerInput) -> Iterable[Package]:
        with file.open() as fh:
            order = fh.read().decode()
        kind, _, arg = order.partition(":")
        if kind == "raise":
            msg = "the faulty analyzer broke"
            raise RuntimeError(msg)
        if kind == "recurse":
            _recurse(0)
        if kind == "sleep":  # blocked, using no CPU: only the wall clock can end it
            time.sleep(3600)
        if kind == "spin":  # CPU-bound forever: RLIMIT_CPU ends it
            while True:
                pass
        if kind == "wait":  # tell the test we are analysing, then wait to be killed
            Path(arg).write_text("analysing")
            time.sleep(3600)
        if kind == "once":  # like wait the first time; a retry after the kill goes through
            marker = Path(arg)
            if not marker.exists():
                marker.write_text("analysing")
                time.sleep(3600)
        return []
