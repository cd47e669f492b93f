"""Java archives (jar, war, ear and the archives nested in them) and loose pom.properties."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath
from typing import ClassVar

from tidegate.scanner.analyzers.base import AnalyzerInput, FileInfo, Prefilter, register
from tidegate.scanner.analyzers.lang.java_archive import (
    MAX_METADATA,
    ArchiveEntries,
    Budget,
    walk_archive,
)
from tidegate.scanner.analyzers.lang.java_metadata import (
    ARCHIVE_SUFFIXES,
    Coordinates,
    coordinates_from_fallback,
    coordinates_from_pom_properties,
    is_archive_name,
    is_pom_properties,
    parse_manifest,
)
from tidegate.scanner.analyzers.lang.purls import make_purl
from tidegate.scanner.analyzers.lang.reading import decode_text, read_bounded
from tidegate.scanner.model import Package, PackageManager

# Total bytes decompressed from one top-level archive, nested ones included.
DECOMPRESSION_BUDGET = 2 << 30


def _coordinates(entries: ArchiveEntries) -> Iterator[Coordinates]:
    """pom.properties when the archive has them (shaded jars have several), else the fallback."""
    found = [c for text in entries.pom_properties if (c := coordinates_from_pom_properties(text))]
    if found:
        yield from found
        return
    fallback = coordinates_from_fallback(entries.file_name, parse_manifest(entries.manifest))
    if fallback is not None:
        yield fallback


def _package(coords: Coordinates, path: str, manager: PackageManager) -> Package:
    return Package(
        name=coords.name,
        version=coords.version,
        ecosystem="Maven",
        package_manager=manager,
        purl=make_purl("maven", coords.artifact, coords.version, coords.group),
        path=path,
    )


@register
class JavaArchiveAnalyzer:
    """Maven coordinates of every archive, nested ones reported at `outer!/inner` paths."""

    name: ClassVar[str] = "lang/java"
    version: ClassVar[int] = 1
    max_file_size: ClassVar[int] = 1 << 30
    prefilter: ClassVar[Prefilter] = Prefilter(
        names=frozenset({"pom.properties"}), suffixes=ARCHIVE_SUFFIXES
    )

    def required(self, path: PurePosixPath, info: FileInfo) -> bool:
        """Archives by suffix, and pom.properties lying outside archives (exploded wars)."""
        del info
        return is_archive_name(path.name) or is_pom_properties(str(path))

    def analyze(self, file: AnalyzerInput) -> Iterable[Package]:
        """Raises `AnalyzerError` for corrupt archives, zip bombs and runaway nesting."""
        path = str(file.path)
        if file.path.name == "pom.properties":
            with file.open() as stream:
                text = decode_text(read_bounded(stream, MAX_METADATA))
            coords = coordinates_from_pom_properties(text)
            return [_package(coords, path, PackageManager.POM)] if coords else []
        packages: dict[tuple[str, str, str], Package] = {}
        with file.open() as stream:
            budget = Budget(DECOMPRESSION_BUDGET)
            for entries in walk_archive(stream, path, file.path.name, budget):
                for coords in _coordinates(entries):
                    pkg = _package(coords, entries.location, PackageManager.JAR)
                    packages.setdefault((pkg.name, pkg.version, pkg.path), pkg)
        return list(packages.values())
