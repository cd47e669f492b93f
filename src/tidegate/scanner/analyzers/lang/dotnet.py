""".NET: NuGet packages listed in `*.deps.json` (the runtime's dependency manifest)."""

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
from tidegate.scanner.analyzers.lang.purls import make_purl
from tidegate.scanner.analyzers.lang.reading import as_dict, as_str, load_json_object, read_bounded
from tidegate.scanner.model import Package, PackageManager


def parse_deps_json(data: bytes) -> list[tuple[str, str]]:
    """(name, version) of every library of type "package"; projects and references are not."""
    doc = load_json_object(data)
    if "libraries" not in doc:
        msg = "deps.json has no libraries"
        raise AnalyzerError(msg)
    found = []
    for key, raw in as_dict(doc["libraries"]).items():
        if as_str(as_dict(raw).get("type")) != "package":
            continue
        name, sep, version = key.partition("/")
        if sep and name and version:
            found.append((name, version))
    return sorted(set(found))


@register
class DotnetDepsAnalyzer:
    """NuGet packages a .NET application was published with."""

    name: ClassVar[str] = "lang/dotnet"
    version: ClassVar[int] = 1
    max_file_size: ClassVar[int] = 32 << 20
    prefilter: ClassVar[Prefilter] = Prefilter(suffixes=(".deps.json",))

    def required(self, path: PurePosixPath, info: FileInfo) -> bool:
        """Files named `*.deps.json`."""
        del info
        return path.name.endswith(".deps.json")

    def analyze(self, file: AnalyzerInput) -> Iterable[Package]:
        """One package per NuGet library; `AnalyzerError` for malformed JSON."""
        with file.open() as stream:
            pairs = parse_deps_json(read_bounded(stream, self.max_file_size))
        return [
            Package(
                name=name,
                version=version,
                ecosystem="NuGet",
                package_manager=PackageManager.DOTNET_CORE,
                purl=make_purl("nuget", name, version),
                path=str(file.path),
            )
            for name, version in pairs
        ]
