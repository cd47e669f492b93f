"""PHP: composer's `vendor/composer/installed.json` (v1 list, v2 object) and `composer.lock`."""

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
from tidegate.scanner.analyzers.lang.purls import slash_purl
from tidegate.scanner.analyzers.lang.reading import (
    as_dict,
    as_list,
    as_str,
    load_json,
    read_bounded,
)
from tidegate.scanner.model import Package, PackageManager


def _entries(items: list[object]) -> list[tuple[str, str, tuple[str, ...]]]:
    found = []
    for raw in items:
        entry = as_dict(raw)
        name, version = as_str(entry.get("name")), as_str(entry.get("version"))
        licenses = tuple(s for s in (as_str(x) for x in as_list(entry.get("license"))) if s)
        if name and version:
            found.append((name, version, licenses))
    return found


def parse_installed_json(data: bytes) -> list[tuple[str, str, tuple[str, ...]]]:
    """Everything composer installed into vendor/ (dev packages included: they are there)."""
    doc = load_json(data)
    if isinstance(doc, list):  # composer 1
        return _entries(doc)
    if isinstance(doc, dict) and "packages" in doc:  # composer 2
        return _entries(as_list(doc["packages"]))
    msg = "installed.json is neither a package list nor {packages: [...]}"
    raise AnalyzerError(msg)


def parse_composer_lock(data: bytes) -> list[tuple[str, str, tuple[str, ...]]]:
    """The production packages of a composer.lock (`packages-dev` are left out)."""
    doc = load_json(data)
    if not isinstance(doc, dict) or "packages" not in doc:
        msg = "composer.lock has no packages list"
        raise AnalyzerError(msg)
    return _entries(as_list(doc["packages"]))


@register
class ComposerAnalyzer:
    """Composer packages, installed or locked."""

    name: ClassVar[str] = "lang/composer"
    version: ClassVar[int] = 1
    max_file_size: ClassVar[int] = 32 << 20
    prefilter: ClassVar[Prefilter] = Prefilter(names=frozenset({"installed.json", "composer.lock"}))

    def required(self, path: PurePosixPath, info: FileInfo) -> bool:
        """`vendor/composer/installed.json` anywhere, and `composer.lock` outside vendor/."""
        del info
        if path.name == "installed.json":
            return path.parent.name == "composer" and path.parent.parent.name == "vendor"
        return path.name == "composer.lock" and "vendor" not in path.parts

    def analyze(self, file: AnalyzerInput) -> Iterable[Package]:
        """One package per composer entry with a name and version."""
        with file.open() as stream:
            data = read_bounded(stream, self.max_file_size)
        entries = (
            parse_installed_json(data)
            if file.path.name == "installed.json"
            else parse_composer_lock(data)
        )
        packages = {
            (name, version): Package(
                name=name,
                version=version,
                ecosystem="Packagist",
                package_manager=PackageManager.COMPOSER,
                purl=slash_purl("composer", name, version),
                path=str(file.path),
                licenses=licenses,
            )
            for name, version, licenses in entries
        }
        return [packages[k] for k in sorted(packages)]
