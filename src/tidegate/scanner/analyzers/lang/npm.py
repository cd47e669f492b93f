"""Installed npm packages: every `node_modules/<name>/package.json` that is a package root."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import ClassVar

from tidegate.scanner.analyzers.base import AnalyzerInput, FileInfo, Prefilter, register
from tidegate.scanner.analyzers.lang.purls import npm_purl
from tidegate.scanner.analyzers.lang.reading import (
    as_dict,
    as_list,
    as_str,
    load_json_object,
    read_bounded,
)
from tidegate.scanner.model import Package, PackageManager


def is_package_root(path: PurePosixPath) -> bool:
    """`…/node_modules/name/package.json` or `…/node_modules/@scope/name/package.json`.

    This is the layout npm's arborist loads; a package.json deeper inside a package (test
    fixtures, examples) is not a node of the tree and `npm ls` does not count it.
    """
    if path.name != "package.json" or len(path.parts) < 3:
        return False
    owner = path.parent
    if owner.parent.name == "node_modules":
        return not owner.name.startswith((".", "@"))
    return (
        owner.parent.name.startswith("@")
        and len(owner.parts) >= 3
        and owner.parent.parent.name == "node_modules"
    )


def licenses_of(manifest: dict[str, object]) -> tuple[str, ...]:
    """`license` as a string, the old `{type}` object, or the older `licenses` array."""
    value = manifest.get("license")
    if isinstance(value, str):
        return (value,) if value else ()
    if isinstance(value, dict):
        kind = as_str(as_dict(value).get("type"))
        return (kind,) if kind else ()
    found = [as_str(as_dict(v).get("type")) or as_str(v) for v in as_list(manifest.get("licenses"))]
    return tuple(f for f in found if f)


@register
class NpmPackageAnalyzer:
    """One package per installed package root; manifests without name or version are ignored."""

    name: ClassVar[str] = "lang/npm"
    version: ClassVar[int] = 1
    max_file_size: ClassVar[int] = 4 << 20
    prefilter: ClassVar[Prefilter] = Prefilter(names=frozenset({"package.json"}))

    def required(self, path: PurePosixPath, info: FileInfo) -> bool:
        """Package roots inside node_modules only."""
        del info
        return is_package_root(path)

    def analyze(self, file: AnalyzerInput) -> Iterable[Package]:
        """The package the manifest declares; raises `AnalyzerError` for malformed JSON."""
        with file.open() as stream:
            manifest = load_json_object(read_bounded(stream, self.max_file_size))
        name, version = as_str(manifest.get("name")), as_str(manifest.get("version"))
        if not name or not version:
            return []
        return [
            Package(
                name=name,
                version=version,
                ecosystem="npm",
                package_manager=PackageManager.NODEPKG,
                purl=npm_purl(name, version),
                path=str(file.path),
                licenses=licenses_of(manifest),
            )
        ]
