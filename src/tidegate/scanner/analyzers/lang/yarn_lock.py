"""yarn lockfiles: the classic v1 text format and the YAML format of yarn 2+ (berry)."""

from __future__ import annotations

import re
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
from tidegate.scanner.analyzers.lang.reading import (
    as_dict,
    as_str,
    decode_text,
    load_yaml_mapping,
    read_bounded,
)
from tidegate.scanner.model import Package, PackageManager

_V1_VERSION = re.compile(r'^\s+version:?\s+"?([^"\s]+)"?\s*$')


def name_of_descriptor(descriptor: str) -> str:
    """`@scope/name@^1.0.0` -> `@scope/name`; `name@npm:1.0.0` -> `name`."""
    descriptor = descriptor.strip().strip('"')
    at = descriptor.find("@", 1)  # a leading "@" belongs to the scope
    return descriptor if at < 0 else descriptor[:at]


def _v1_entries(text: str) -> Iterator[tuple[str, str]]:
    name = ""
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if not line[0].isspace():
            if not line.rstrip().endswith(":"):
                msg = f"unexpected yarn.lock line: {line[:80]!r}"
                raise AnalyzerError(msg)
            name = name_of_descriptor(line.rstrip()[:-1].split(",")[0])
            continue
        match = _V1_VERSION.match(line)
        if match and name and line.startswith("  ") and not line.startswith("   "):
            yield name, match.group(1)
            name = ""


def _berry_entries(doc: dict[str, object]) -> Iterator[tuple[str, str]]:
    for key, raw in doc.items():
        if key == "__metadata":
            continue
        entry = as_dict(raw)
        resolution = as_str(entry.get("resolution"))
        version = as_str(entry.get("version"))
        # workspaces and links are the project itself, not something fetched from npm
        if not resolution or not version or "@workspace:" in resolution:
            continue
        if "@link:" in resolution or "@portal:" in resolution:
            continue
        yield name_of_descriptor(resolution), version


def parse_yarn_lock(data: bytes) -> list[tuple[str, str]]:
    """(name, version) pairs of a yarn.lock in either format."""
    text = decode_text(data)
    if "__metadata:" in text:
        return list(_berry_entries(load_yaml_mapping(data)))
    return list(_v1_entries(text))


@register
class YarnLockAnalyzer:
    """Packages pinned by a yarn.lock outside node_modules."""

    name: ClassVar[str] = "lang/yarn"
    version: ClassVar[int] = 1
    max_file_size: ClassVar[int] = 64 << 20
    prefilter: ClassVar[Prefilter] = Prefilter(names=frozenset({"yarn.lock"}))

    def required(self, path: PurePosixPath, info: FileInfo) -> bool:
        """yarn.lock not inside a node_modules tree."""
        del info
        return path.name == "yarn.lock" and "node_modules" not in path.parts

    def analyze(self, file: AnalyzerInput) -> Iterable[Package]:
        """One package per (name, version) the lockfile resolves."""
        with file.open() as stream:
            pairs = parse_yarn_lock(read_bounded(stream, self.max_file_size))
        return npm_lock_packages(pairs, file.path, PackageManager.YARN)
