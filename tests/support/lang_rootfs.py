"""Run the language analyzers over a plain directory, the way the inventory builder would.

Language-analyzer tests use this instead of a full image so each case stays a small file tree:
every regular file goes through the walk's pre-filter index and then to the `required` of each
analyzer the index lets through, files over `max_file_size` are skipped with a warning, and
`AnalyzerError` becomes a warning too, as `ScanWarning`s do.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import tidegate.scanner.analyzers.lang  # noqa: F401 - registers the analyzers
from tidegate.scanner.analyzers.base import ANALYZERS, AnalyzerError, AnalyzerInput, FileInfo
from tidegate.scanner.analyzers.lang import prefer_installed
from tidegate.scanner.image.selection import Selector, SelectorIndex
from tidegate.scanner.model import Package

LANG_ANALYZERS = tuple(sorted(name for name in ANALYZERS if name.startswith("lang/")))


@dataclass(frozen=True, slots=True)
class TreeResult:
    """Packages and (path, analyzer, reason) warnings found in one directory tree."""

    packages: tuple[Package, ...]
    warnings: tuple[tuple[str, str, str], ...]


def _input(root: Path, file: Path) -> AnalyzerInput:
    info = file.lstat()
    rel = PurePosixPath(file.relative_to(root).as_posix())
    return AnalyzerInput(
        path=rel,
        info=FileInfo(size=info.st_size, mode=info.st_mode),
        open=lambda: file.open("rb"),
        local_path=lambda: file,
    )


def analyze_tree(root: Path, names: tuple[str, ...] = LANG_ANALYZERS) -> TreeResult:
    """Every package the named analyzers find under `root`, lockfile duplicates removed."""
    packages: list[Package] = []
    warnings: list[tuple[str, str, str]] = []
    analyzers = {name: ANALYZERS[name]() for name in names}
    index = SelectorIndex(
        [Selector(n, a.required, a.max_file_size, a.prefilter) for n, a in analyzers.items()]
    )
    for dirpath, _dirs, files in sorted(os.walk(root)):
        for filename in sorted(files):
            file = Path(dirpath, filename)
            if not stat.S_ISREG(file.lstat().st_mode):
                continue
            item = _input(root, file)
            for selector in index.candidates(str(item.path), item.info.mode):
                name, analyzer = selector.name, analyzers[selector.name]
                if not analyzer.required(item.path, item.info):
                    continue
                if item.info.size > analyzer.max_file_size:
                    warnings.append((str(item.path), name, "larger than max_file_size"))
                    continue
                try:
                    packages.extend(analyzer.analyze(item))
                except AnalyzerError as exc:
                    warnings.append((str(item.path), name, str(exc)))
    return TreeResult(tuple(prefer_installed(packages)), tuple(sorted(warnings)))


def package_record(pkg: Package) -> dict[str, object]:
    """The JSON shape golden files store for one package."""
    return {
        "name": pkg.name,
        "version": pkg.version,
        "ecosystem": pkg.ecosystem,
        "package_manager": pkg.package_manager.value,
        "purl": pkg.purl,
        "path": pkg.path,
        "licenses": list(pkg.licenses),
    }


def result_json(result: TreeResult) -> str:
    """Sorted, stable JSON for golden comparison."""
    records = sorted(
        (package_record(p) for p in result.packages),
        key=lambda r: json.dumps(r, sort_keys=True),
    )
    warnings = [{"path": p, "analyzer": a, "reason": r} for p, a, r in result.warnings]
    doc = {"packages": records, "warnings": warnings}
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"
