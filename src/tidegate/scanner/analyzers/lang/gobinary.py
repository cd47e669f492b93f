"""Go binaries: modules compiled in (from the embedded build info) and the Go toolchain itself.

The toolchain is reported as the package `stdlib` (ecosystem Go), the name the Go
vulnerability database uses for standard-library advisories.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import ClassVar

from tidegate.scanner.analyzers.base import AnalyzerInput, register
from tidegate.scanner.analyzers.lang.elf import ElfFile, elf_headers
from tidegate.scanner.analyzers.lang.executables import (
    ExecutableAnalyzer,
    sniff_format,
)
from tidegate.scanner.analyzers.lang.gobuildinfo import (
    BuildInfo,
    Module,
    parse_modinfo,
    read_elf_buildinfo,
    scan_inline_buildinfo,
)
from tidegate.scanner.analyzers.lang.purls import slash_purl
from tidegate.scanner.model import Package, PackageManager


def stdlib_version(go_version: str) -> str:
    """`go1.21.3 X:boringcrypto` -> `1.21.3`; development toolchains have no release: ``."""
    first = go_version.split(" ", 1)[0]
    return first[2:] if first.startswith("go") and first[2:3].isdigit() else ""


def effective_module(module: Module) -> tuple[str, str]:
    """(path, version) actually compiled in.

    A replacement by another module version is what was built, so it wins; a replacement by a
    local directory has no version at all, so only the original path is kept.
    """
    if module.replace_path and module.replace_version:
        return module.replace_path, module.replace_version
    if module.replace_path:
        return module.path, ""
    return module.path, module.version


def packages_from_buildinfo(info: BuildInfo, path: str) -> list[Package]:
    """`stdlib`, the main module and every dependency, as Go-ecosystem packages."""
    modules: list[tuple[str, str]] = []
    if version := stdlib_version(info.go_version):
        modules.append(("stdlib", version))
    if info.main is not None:
        modules.append(effective_module(info.main))
    modules.extend(effective_module(dep) for dep in info.deps)
    return [
        Package(
            name=name,
            version=version,
            ecosystem="Go",
            package_manager=PackageManager.GOBINARY,
            purl=slash_purl("golang", name, version),
            path=path,
        )
        for name, version in modules
    ]


@register
class GoBinaryAnalyzer(ExecutableAnalyzer):
    """Executables carrying Go build info (ELF fully; Mach-O and PE for Go 1.18+ builds)."""

    name: ClassVar[str] = "lang/gobinary"
    version: ClassVar[int] = 1

    def analyze(self, file: AnalyzerInput) -> Iterable[Package]:
        """Nothing for non-Go executables; `AnalyzerError` for a corrupt binary."""
        with file.open() as stream:
            kind = sniff_format(stream)
            if kind == "elf":
                found = read_elf_buildinfo(ElfFile(stream, elf_headers(file)))
            elif kind:
                found = scan_inline_buildinfo(stream, stream.seek(0, os.SEEK_END))
            else:
                return []
        if found is None:
            return []
        go_version, modinfo = found
        return packages_from_buildinfo(parse_modinfo(go_version, modinfo), str(file.path))
