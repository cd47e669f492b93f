"""Rust: `Cargo.lock` and the dependency list cargo-auditable embeds in binaries.

cargo-auditable stores zlib-compressed JSON in an ELF section named `.dep-v0`:
`{"packages": [{"name", "version", "source", "kind", "dependencies", "root"}]}`.
Only crates that came from a registry or git are reported: local path crates (the workspace
itself) have no advisories to match, and build-time-only crates are not in the binary.
"""

from __future__ import annotations

import zlib
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
from tidegate.scanner.analyzers.lang.elf import ElfFile, elf_headers
from tidegate.scanner.analyzers.lang.executables import (
    ExecutableAnalyzer,
    sniff_format,
)
from tidegate.scanner.analyzers.lang.purls import make_purl
from tidegate.scanner.analyzers.lang.reading import (
    as_dict,
    as_list,
    as_str,
    load_json_object,
    load_toml,
    read_bounded,
)
from tidegate.scanner.model import Package, PackageManager

AUDITABLE_SECTION = ".dep-v0"
_MAX_COMPRESSED = 4 << 20
_MAX_JSON = 16 << 20  # decompression is capped here, so a zlib bomb stops at this size


def _crate(name: str, version: str, path: str) -> Package:
    return Package(
        name=name,
        version=version,
        ecosystem="crates.io",
        package_manager=PackageManager.CARGO,
        purl=make_purl("cargo", name, version),
        path=path,
    )


def parse_cargo_lock(data: bytes) -> list[tuple[str, str]]:
    """(name, version) of every `[[package]]` with a `source` (registry or git)."""
    doc = load_toml(data)
    if "package" not in doc and "version" not in doc:
        msg = "not a Cargo.lock: no [[package]] tables"
        raise AnalyzerError(msg)
    found = []
    for raw in as_list(doc.get("package")):
        entry = as_dict(raw)
        name, version = as_str(entry.get("name")), as_str(entry.get("version"))
        if name and version and as_str(entry.get("source")):
            found.append((name, version))
    return sorted(set(found))


def inflate_bounded(data: bytes, limit: int) -> bytes:
    """zlib-decompress at most `limit` bytes; more is an `AnalyzerError` (a bomb)."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        msg = f"corrupt zlib data: {exc}"
        raise AnalyzerError(msg) from exc
    if len(out) > limit or inflater.unconsumed_tail:
        msg = f"compressed data inflates past {limit} bytes"
        raise AnalyzerError(msg)
    return out


def parse_auditable(compressed: bytes) -> list[tuple[str, str]]:
    """(name, version) of the runtime, non-local crates in cargo-auditable data."""
    doc = load_json_object(inflate_bounded(compressed, _MAX_JSON))
    found = []
    for raw in as_list(doc.get("packages")):
        entry = as_dict(raw)
        name, version = as_str(entry.get("name")), as_str(entry.get("version"))
        source = as_str(entry.get("source")) or "local"
        kind = as_str(entry.get("kind")) or "runtime"
        if name and version and source != "local" and kind == "runtime":
            found.append((name, version))
    return sorted(set(found))


@register
class CargoLockAnalyzer:
    """Crates pinned by a Cargo.lock."""

    name: ClassVar[str] = "lang/cargo"
    version: ClassVar[int] = 1
    max_file_size: ClassVar[int] = 16 << 20
    prefilter: ClassVar[Prefilter] = Prefilter(names=frozenset({"Cargo.lock"}))

    def required(self, path: PurePosixPath, info: FileInfo) -> bool:
        """Files named `Cargo.lock`."""
        del info
        return path.name == "Cargo.lock"

    def analyze(self, file: AnalyzerInput) -> Iterable[Package]:
        """One package per registry or git crate."""
        with file.open() as stream:
            pairs = parse_cargo_lock(read_bounded(stream, self.max_file_size))
        return [_crate(name, version, str(file.path)) for name, version in pairs]


@register
class RustBinaryAnalyzer(ExecutableAnalyzer):
    """ELF executables built with cargo-auditable."""

    name: ClassVar[str] = "lang/rust-binary"
    version: ClassVar[int] = 1

    def analyze(self, file: AnalyzerInput) -> Iterable[Package]:
        """Nothing for binaries without `.dep-v0`; `AnalyzerError` for corrupt data."""
        with file.open() as stream:
            if sniff_format(stream) != "elf":
                return []
            elf = ElfFile(stream, elf_headers(file))
            section = elf.headers.section(AUDITABLE_SECTION)
            if section is None:
                return []
            compressed = elf.read_section(section, _MAX_COMPRESSED)
        return [_crate(n, v, str(file.path)) for n, v in parse_auditable(compressed)]
