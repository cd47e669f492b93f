"""Alpine/Wolfi apk database: `lib/apk/db/installed`."""

from __future__ import annotations

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
from tidegate.scanner.model import Package, PackageManager

INSTALLED = PurePosixPath("lib/apk/db/installed")


def _package(rec: dict[str, str], path: str) -> Package:
    if "P" not in rec or "V" not in rec:
        msg = "record without P: or V:"
        raise AnalyzerError(msg)
    return Package(
        name=rec["P"],
        version=rec["V"],
        ecosystem="Alpine",
        package_manager=PackageManager.OS,
        path=path,
        source_name=rec.get("o", rec["P"]),
        source_version=rec["V"],
        arch=rec.get("A", ""),
        licenses=(rec["L"],) if rec.get("L") else (),
    )


@register
class ApkAnalyzer:
    """Installed apk packages; `o:` (origin) is the source package."""

    name: ClassVar[str] = "os/apk"
    version: ClassVar[int] = 1
    max_file_size: ClassVar[int] = 64 << 20
    prefilter: ClassVar[Prefilter] = Prefilter(paths=frozenset({str(INSTALLED)}))

    def required(self, path: PurePosixPath, info: FileInfo) -> bool:
        return path == INSTALLED

    def analyze(self, file: AnalyzerInput) -> Iterable[Package]:
        text = file.read_utf8()
        found = []
        rec: dict[str, str] = {}
        for line in [*text.splitlines(), ""]:
            if not line:
                if rec:
                    found.append(_package(rec, str(file.path)))
                rec = {}
                continue
            key, sep, value = line.partition(":")
            if not sep or len(key) != 1:
                msg = f"malformed line {line[:60]!r}"
                raise AnalyzerError(msg)
            # Only the first occurrence counts: later F:/R: lines repeat keys per file.
            rec.setdefault(key, value)
        return found
