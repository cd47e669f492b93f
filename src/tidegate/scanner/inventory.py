"""Image in, inventories out: resolve platforms, analyze (or recall) each layer, merge.

Merging ends with `installed.installed_only`, so a lockfile never adds packages on top of
an installed tree, whatever reads the inventory.

Each layer is read at most once per scan and not at all when the cache holds results for
every analyzer at its current version; a version bump re-reads the layer for the stale
analyzers only.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tidegate.scanner.analyzers import load_all
from tidegate.scanner.analyzers.base import Analyzer
from tidegate.scanner.analyzers.os.release import DISTRO_FILES, detect, finalize
from tidegate.scanner.cache import LayerCache
from tidegate.scanner.image.imagefs import MergedView
from tidegate.scanner.image.layer import analyze_layer
from tidegate.scanner.image.limits import Limits, Usage
from tidegate.scanner.image.results import (
    AnalyzerResult,
    LayerFacts,
    dump_facts,
    dump_result,
    load_facts,
    load_result,
)
from tidegate.scanner.installed import installed_only
from tidegate.scanner.model import Inventory, ScanWarning
from tidegate.scanner.sources.base import ImageSource, ImageTarget
from tidegate.scanner.sources.manifest import resolve_targets

FACTS_KEY = "_layer"
FACTS_VERSION = 1


@dataclass(frozen=True, slots=True)
class ImageInventory:
    """One platform image of a reference and what was found in it."""

    reference: str
    manifest_digest: str
    inventory: Inventory


def default_analyzers() -> list[Analyzer]:
    """One instance of every registered analyzer, in name order."""
    return [cls() for _name, cls in sorted(load_all().items())]


class _LayerReader:
    def __init__(
        self,
        source: ImageSource,
        analyzers: Sequence[Analyzer],
        cache: LayerCache | None,
        scratch: Path,
        limits: Limits,
    ) -> None:
        self.source = source
        self.analyzers = analyzers
        self.cache = cache
        self.scratch = scratch
        self.limits = limits
        self.usage = Usage(limits)
        self.memo: dict[str, tuple[LayerFacts, dict[str, AnalyzerResult]]] = {}

    def read(self, digest: str) -> tuple[LayerFacts, dict[str, AnalyzerResult]]:
        # Platforms of one index often share layers: read each at most once per scan.
        if digest not in self.memo:
            self.memo[digest] = self._read(digest)
        return self.memo[digest]

    def _read(self, digest: str) -> tuple[LayerFacts, dict[str, AnalyzerResult]]:
        cached = self.cache.get_layer(digest) if self.cache is not None else {}
        facts_raw = cached.get((FACTS_KEY, FACTS_VERSION))
        results = {
            a.name: load_result(cached[(a.name, a.version)])
            for a in self.analyzers
            if (a.name, a.version) in cached
        }
        stale = [a for a in self.analyzers if a.name not in results]
        if facts_raw is not None and not stale:
            return load_facts(facts_raw), results
        with self.source.open_blob(digest) as blob:
            facts, fresh = analyze_layer(blob, digest, stale, self.scratch, self.limits, self.usage)
        if self.cache is not None:
            self.cache.put(digest, FACTS_KEY, FACTS_VERSION, dump_facts(facts))
            for a in stale:
                self.cache.put(digest, a.name, a.version, dump_result(fresh[a.name]))
        results.update(fresh)
        return facts, results


def _inventory(target: ImageTarget, reader: _LayerReader, limits: Limits) -> Inventory:
    view = MergedView()
    warnings: list[ScanWarning] = []
    for layer in target.layers:
        facts, results = reader.read(layer.digest)
        warnings.extend(facts.warnings)
        for result in results.values():
            warnings.extend(result.warnings)
        view.apply(layer.digest, facts, results)
    files, link_warnings = view.resolved_distro_files(DISTRO_FILES, limits.max_symlink_hops)
    warnings.extend(link_warnings)
    distro = detect(files)
    packages = installed_only(finalize(p, a, distro) for a, p in view.all_packages())
    packages.sort(key=lambda p: (p.ecosystem, p.name, p.version, p.arch, p.path))
    return Inventory(
        distro=distro,
        packages=tuple(packages),
        warnings=tuple(warnings),
        platform=target.platform,
        layers=tuple(lay.digest for lay in target.layers),
    )


def analyze_image(
    source: ImageSource,
    *,
    platform: str | None = None,
    cache_dir: Path | None = None,
    analyzers: Iterable[Analyzer] | None = None,
    limits: Limits | None = None,
    scratch_dir: Path | None = None,
) -> list[ImageInventory]:
    """Inventories of every platform image of `source` (or only `platform`).

    Raises `ScanFailed` when the image cannot be read; bad files become warnings.
    """
    limits = limits or Limits()
    chosen = list(analyzers) if analyzers is not None else default_analyzers()
    cache = LayerCache(cache_dir) if cache_dir is not None else None
    try:
        with tempfile.TemporaryDirectory(prefix="tidegate-scan-", dir=scratch_dir) as tmp:
            reader = _LayerReader(source, chosen, cache, Path(tmp), limits)
            return [
                ImageInventory(source.reference, t.manifest_digest, _inventory(t, reader, limits))
                for t in resolve_targets(source, platform, max_config_bytes=limits.max_config_bytes)
            ]
    finally:
        if cache is not None:
            cache.close()
