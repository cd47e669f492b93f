"""pnpm lockfiles (`pnpm-lock.yaml`), lockfile versions 5.x, 6.x and 9.x.

Package keys changed shape between versions: `/name/1.0.0_peer` (5), `/name@1.0.0(peer)` (6),
`name@1.0.0` (9). Peer-dependency suffixes are dropped: they select a copy, not a version.
"""

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
    load_yaml_mapping,
    read_bounded,
)
from tidegate.scanner.model import Package, PackageManager

_PEER_SUFFIX = re.compile(r"\(.*\)$")
_V5_KEY = re.compile(r"^/?((?:@[^/]+/)?[^/@]+)/([^/_]+)(?:_.*)?$")


def split_package_key(key: str, *, v5: bool) -> tuple[str, str] | None:
    """(name, version) of a `packages:` key, or None for keys of another shape."""
    if v5:
        match = _V5_KEY.match(key.strip())
        return (match.group(1), match.group(2)) if match else None
    bare = _PEER_SUFFIX.sub("", key.strip().lstrip("/"))
    at = bare.find("@", 1)  # a leading "@" belongs to the scope
    return (bare[:at], bare[at + 1 :]) if at > 0 else None


def _is_v5(doc: dict[str, object]) -> bool:
    return as_str(doc.get("lockfileVersion")).lstrip("'\"").startswith("5")


def _entries(doc: dict[str, object]) -> Iterator[tuple[str, str]]:
    v5 = _is_v5(doc)
    for key, raw in as_dict(doc.get("packages")).items():
        entry = as_dict(raw)
        if entry.get("dev") is True:
            continue
        parsed = split_package_key(key, v5=v5)
        if parsed is None:
            continue
        name, version = parsed
        # git/tarball dependencies carry a URL where the version goes; the entry has the real one
        name = as_str(entry.get("name")) or name
        version = as_str(entry.get("version")) or version
        if name and version and ":" not in version:
            yield name, version


def parse_pnpm_lock(data: bytes) -> list[tuple[str, str]]:
    """(name, version) pairs of a pnpm-lock.yaml."""
    doc = load_yaml_mapping(data)
    if "lockfileVersion" not in doc:
        msg = "not a pnpm lockfile: no lockfileVersion"
        raise AnalyzerError(msg)
    return list(_entries(doc))


@register
class PnpmLockAnalyzer:
    """Packages pinned by a pnpm-lock.yaml outside node_modules."""

    name: ClassVar[str] = "lang/pnpm"
    version: ClassVar[int] = 1
    max_file_size: ClassVar[int] = 64 << 20
    prefilter: ClassVar[Prefilter] = Prefilter(names=frozenset({"pnpm-lock.yaml"}))

    def required(self, path: PurePosixPath, info: FileInfo) -> bool:
        """pnpm-lock.yaml not inside a node_modules tree."""
        del info
        return path.name == "pnpm-lock.yaml" and "node_modules" not in path.parts

    def analyze(self, file: AnalyzerInput) -> Iterable[Package]:
        """One package per (name, version) the lockfile resolves."""
        with file.open() as stream:
            pairs = parse_pnpm_lock(read_bounded(stream, self.max_file_size))
        return npm_lock_packages(pairs, file.path, PackageManager.NPM)
