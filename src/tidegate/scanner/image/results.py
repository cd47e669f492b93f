"""Per-layer analysis results and their JSON form (what the layer cache stores).

`files` maps a path to the packages its analyzer found, or to None when the file was
present but unreadable: a lower layer's version of it no longer counts either way.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field

from tidegate.scanner.model import Package, ScanWarning
from tidegate.scanner.model_json import (
    package_from_json,
    package_to_json,
    warning_from_json,
    warning_to_json,
)


@dataclass(frozen=True, slots=True)
class LayerFacts:
    """Analyzer-independent facts of one layer, needed to merge layers."""

    whiteouts: tuple[str, ...] = ()
    opaques: tuple[str, ...] = ()
    symlinks: dict[str, str] = field(default_factory=dict)
    distro_files: dict[str, bytes] = field(default_factory=dict)
    warnings: tuple[ScanWarning, ...] = ()


@dataclass(frozen=True, slots=True)
class AnalyzerResult:
    """One analyzer's output on one layer."""

    files: dict[str, tuple[Package, ...] | None] = field(default_factory=dict)
    warnings: tuple[ScanWarning, ...] = ()


def dump_facts(f: LayerFacts) -> bytes:
    return json.dumps(
        {
            "whiteouts": list(f.whiteouts),
            "opaques": list(f.opaques),
            "symlinks": f.symlinks,
            "distro_files": {k: base64.b64encode(v).decode() for k, v in f.distro_files.items()},
            "warnings": [warning_to_json(w) for w in f.warnings],
        }
    ).encode()


def load_facts(data: bytes) -> LayerFacts:
    d = json.loads(data)
    return LayerFacts(
        whiteouts=tuple(d["whiteouts"]),
        opaques=tuple(d["opaques"]),
        symlinks=dict(d["symlinks"]),
        distro_files={k: base64.b64decode(v) for k, v in d["distro_files"].items()},
        warnings=tuple(warning_from_json(w) for w in d["warnings"]),
    )


def dump_result(r: AnalyzerResult) -> bytes:
    files = {
        path: None if pkgs is None else [package_to_json(p) for p in pkgs]
        for path, pkgs in r.files.items()
    }
    warnings = [warning_to_json(w) for w in r.warnings]
    return json.dumps({"files": files, "warnings": warnings}).encode()


def load_result(data: bytes) -> AnalyzerResult:
    d = json.loads(data)
    files = {
        path: None if pkgs is None else tuple(package_from_json(p) for p in pkgs)
        for path, pkgs in d["files"].items()
    }
    return AnalyzerResult(files, tuple(warning_from_json(w) for w in d["warnings"]))
