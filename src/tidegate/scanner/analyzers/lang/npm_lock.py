"""npm lockfiles (`package-lock.json`, `npm-shrinkwrap.json`), lockfile versions 1, 2 and 3.

Only packages a production install would place are reported: `dev` entries, extraneous
entries, workspace links and the root project are left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath
from typing import ClassVar

from tidegate.scanner.analyzers.base import (
    AnalyzerError,
    AnalyzerInput,
    FileInfo,
    Prefilter,
    register,
)
from tidegate.scanner.analyzers.lang.purls import npm_lock_packages
from tidegate.scanner.analyzers.lang.reading import as_dict, as_str, load_json_object, read_bounded
from tidegate.scanner.model import Package, PackageManager

LOCKFILE_NAMES = frozenset({"package-lock.json", "npm-shrinkwrap.json"})
# v1 nests `dependencies` per level; real trees are a few dozen deep at most.
_MAX_V1_DEPTH = 256


def _name_from_location(location: str) -> str:
    """`node_modules/a/node_modules/@s/b` -> `@s/b`."""
    return location.rpartition("node_modules/")[2]


def _v2_entries(packages: dict[str, object]) -> Iterator[tuple[str, str]]:
    for location, raw in packages.items():
        entry = as_dict(raw)
        if not location or "node_modules/" not in location or entry.get("link") is True:
            continue
        if entry.get("dev") is True or entry.get("extraneous") is True:
            continue
        name = as_str(entry.get("name")) or _name_from_location(location)
        version = as_str(entry.get("version"))
        if name and version:
            yield name, version


def _v1_entries(dependencies: dict[str, object], depth: int = 0) -> Iterator[tuple[str, str]]:
    if depth > _MAX_V1_DEPTH:
        msg = "package-lock dependencies nested too deeply"
        raise AnalyzerError(msg)
    for name, raw in dependencies.items():
        entry = as_dict(raw)
        version = as_str(entry.get("version"))
        if entry.get("dev") is not True and version and not version.startswith("file:"):
            yield name, version
        yield from _v1_entries(as_dict(entry.get("dependencies")), depth + 1)


def parse_npm_lock(data: bytes) -> list[tuple[str, str]]:
    """(name, version) pairs of a package-lock, one per installed location."""
    doc = load_json_object(data)
    if "packages" in doc:  # v2 and v3 carry the flat form; v2 also keeps v1's for old npm
        return list(_v2_entries(as_dict(doc["packages"])))
    if "dependencies" in doc:
        return list(_v1_entries(as_dict(doc["dependencies"])))
    if "lockfileVersion" not in doc:
        msg = "not a package-lock: no lockfileVersion, packages or dependencies"
        raise AnalyzerError(msg)
    return []


@register
class NpmLockAnalyzer:
    """Packages pinned by an npm lockfile outside node_modules."""

    name: ClassVar[str] = "lang/npm-lock"
    version: ClassVar[int] = 1
    max_file_size: ClassVar[int] = 64 << 20
    prefilter: ClassVar[Prefilter] = Prefilter(names=LOCKFILE_NAMES)

    def required(self, path: PurePosixPath, info: FileInfo) -> bool:
        """package-lock.json / npm-shrinkwrap.json not inside a node_modules tree."""
        del info
        return path.name in LOCKFILE_NAMES and "node_modules" not in path.parts

    def analyze(self, file: AnalyzerInput) -> Iterable[Package]:
        """One package per (name, version) the lockfile installs."""
        with file.open() as stream:
            pairs = parse_npm_lock(read_bounded(stream, self.max_file_size))
        return npm_lock_packages(pairs, file.path, PackageManager.NPM)
