"""The merged, read-only view of an image's layers, as far as analysis needs it.

Layers are applied bottom first. A layer's whiteouts and opaque markers hide what lower
layers put there; then its own files replace lower versions. Each package keeps the layer
that introduced it: a package still present with the same name, version and architecture
in a rewritten database keeps the lower layer's digest, one missing from it disappears.
Language packages are one per location: the same module in two binaries, or the same jar
nested in three archives, is kept once per path so every finding can name each file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from tidegate.scanner.image.paths import LinkLoop, is_under, resolve
from tidegate.scanner.image.results import AnalyzerResult, LayerFacts
from tidegate.scanner.model import Package, PackageManager, ScanWarning

_Key = tuple[str, str, str, str]


def _with_parents(paths: Iterable[str]) -> set[str]:
    """`paths` and every directory above them, the root ("") included when any is given."""
    out: set[str] = set()
    for path in paths:
        out.add("")
        while path not in out:
            out.add(path)
            if "/" not in path:
                break
            path = path.rsplit("/", 1)[0]
    return out


@dataclass(slots=True)
class MergedView:
    """State after applying some layers: package files, distro files, symlinks."""

    packages: dict[tuple[str, str], dict[_Key, Package]] = field(default_factory=dict)
    distro_files: dict[str, bytes] = field(default_factory=dict)
    symlinks: dict[str, str] = field(default_factory=dict)

    def remove_under(self, directory: str, *, include_self: bool) -> None:
        def hidden(path: str) -> bool:
            return is_under(path, directory) and (include_self or path != directory)

        for key in [k for k in self.packages if hidden(k[1])]:
            del self.packages[key]
        for path in [p for p in self.distro_files if hidden(p)]:
            del self.distro_files[path]
        for path in [p for p in self.symlinks if hidden(p)]:
            del self.symlinks[path]

    def _hide(self, whiteouts: set[str], opaques: set[str]) -> None:
        """One pass over the state per layer, walking each path's parents through the sets."""

        def hidden(path: str) -> bool:
            if path in whiteouts or "" in opaques:
                return True
            while "/" in path:
                path = path.rsplit("/", 1)[0]
                if path in whiteouts or path in opaques:
                    return True
            return False

        self.packages = {k: v for k, v in self.packages.items() if not hidden(k[1])}
        self.distro_files = {k: v for k, v in self.distro_files.items() if not hidden(k)}
        self.symlinks = {k: v for k, v in self.symlinks.items() if not hidden(k)}

    def apply(self, digest: str, facts: LayerFacts, results: Mapping[str, AnalyzerResult]) -> None:
        """Apply one layer on top of the current state."""
        if facts.opaques or facts.whiteouts:
            self._hide(set(facts.whiteouts), set(facts.opaques))
        # A layer may hold thousands of symlinks and an image thousands of package files: a
        # symlink hides state only when its path is a watched path or one of its parents.
        if facts.symlinks:
            covered = _with_parents([k[1] for k in self.packages] + list(self.distro_files))
            for path, target in facts.symlinks.items():
                if path in covered:
                    self.remove_under(path, include_self=True)
                self.symlinks[path] = target
        for path, data in facts.distro_files.items():
            self.symlinks.pop(path, None)
            self.distro_files[path] = data
        for analyzer, result in results.items():
            for path, pkgs in result.files.items():
                self.symlinks.pop(path, None)
                old = self.packages.pop((analyzer, path), {})
                if pkgs is None:
                    continue
                new: dict[_Key, Package] = {}
                for pkg in pkgs:
                    key = (pkg.name, pkg.version, pkg.arch, pkg.path)
                    before = old.get(key)
                    layer = before.layer if before is not None else digest
                    new[key] = dataclasses.replace(pkg, layer=layer)
                self.packages[(analyzer, path)] = new

    def resolved_distro_files(
        self, names: Iterable[str], max_hops: int
    ) -> tuple[dict[str, bytes], list[ScanWarning]]:
        """Distro files by their well-known names, following symlinks inside the image."""
        out: dict[str, bytes] = {}
        warnings = []
        for name in names:
            try:
                real = resolve(name, self.symlinks, max_hops)
            except LinkLoop as exc:
                warnings.append(ScanWarning(name, "", "distro", str(exc)))
                continue
            if real in self.distro_files:
                out[name] = self.distro_files[real]
        return out, warnings

    def all_packages(self) -> list[tuple[str, Package]]:
        """(analyzer, package) pairs; OS packages de-duplicated across database files."""
        seen: set[tuple[str, str, str, str, str]] = set()
        out = []
        for (analyzer, _path), pkgs in sorted(self.packages.items()):
            for key, pkg in pkgs.items():
                # One dpkg/rpm package may be listed by two databases of one image; a
                # language package at two paths is two installations.
                where = key[3] if pkg.package_manager is not PackageManager.OS else ""
                ident = (analyzer, *key[:3], where)
                if ident not in seen:
                    seen.add(ident)
                    out.append((analyzer, pkg))
        return out
