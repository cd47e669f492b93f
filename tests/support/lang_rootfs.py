"""Run the language analyzers over a plain directory through the real inventory builder.

Language-analyzer tests keep each case a small file tree, but never a copy of the scan: the
tree becomes a one-layer OCI layout (tests/support/oci_build.py) and `analyze_image` walks
it, so the layer walker's pre-filter and size limits, the merged view's per-location rule
and the installed-over-lockfile rule all apply exactly as in a real scan.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import tidegate.scanner.analyzers.lang  # noqa: F401 - registers the analyzers
from tests.support import oci_build as ob
from tidegate.scanner.analyzers.base import ANALYZERS, Analyzer
from tidegate.scanner.inventory import analyze_image
from tidegate.scanner.model import Package
from tidegate.scanner.sources.layout import OCILayoutSource

LANG_ANALYZERS = tuple(sorted(name for name in ANALYZERS if name.startswith("lang/")))


@dataclass(frozen=True, slots=True)
class TreeResult:
    """Packages and (path, analyzer, reason) warnings found in one directory tree."""

    packages: tuple[Package, ...]
    warnings: tuple[tuple[str, str, str], ...]


def _analyzer(name: str, max_file_size: int | None) -> Analyzer:
    cls = ANALYZERS[name]
    if max_file_size is None:
        return cls()
    # The real analyzer with a lower limit: an oversized case then needs kilobytes, not a
    # gigabyte-sized layer.
    smaller: type[Analyzer] = type(cls.__name__, (cls,), {"max_file_size": max_file_size})
    return smaller()


def analyze_tree(
    root: Path,
    names: tuple[str, ...] = LANG_ANALYZERS,
    max_file_size: Mapping[str, int] | None = None,
) -> TreeResult:
    """Every package the named analyzers find in an image whose one layer is `root`."""
    limits = max_file_size or {}
    analyzers = [_analyzer(n, limits.get(n)) for n in names]
    with tempfile.TemporaryDirectory(prefix="lang-tree-") as tmp:
        layout = Path(tmp) / "layout"
        ob.build_oci_layout(layout, [ob.Layer(root, compression="none")], tag="tree")
        [image] = analyze_image(
            OCILayoutSource(layout, "tree"), analyzers=analyzers, scratch_dir=Path(tmp)
        )
    inventory = image.inventory
    warnings = {(w.path, w.analyzer, w.reason) for w in inventory.warnings}
    return TreeResult(inventory.packages, tuple(sorted(warnings)))


def package_record(pkg: Package) -> dict[str, object]:
    """The JSON shape golden files store for one package."""
    return {
        "name": pkg.name,
        "version": pkg.version,
        "ecosystem": pkg.ecosystem,
        "package_manager": pkg.package_manager.value,
        "purl": pkg.purl,
        "path": pkg.path,
        "licenses": list(pkg.licenses),
    }


def result_json(result: TreeResult) -> str:
    """Sorted, stable JSON for golden comparison."""
    records = sorted(
        (package_record(p) for p in result.packages),
        key=lambda r: json.dumps(r, sort_keys=True),
    )
    warnings = [{"path": p, "analyzer": a, "reason": r} for p, a, r in result.warnings]
    doc = {"packages": records, "warnings": warnings}
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"
