"""The one JSON form of the scanner's nouns: packages, distros, warnings and inventories.

Both stores of analysis results use it: the layer cache (per-analyzer results) and the
engine's stored inventories and re-scan index. Readers accept what earlier versions wrote:
fields added since (`layer`, `licenses`) default, and a warning may be the older list form.
"""

from __future__ import annotations

from typing import Any

from tidegate.scanner.model import Distro, Inventory, Package, PackageManager, ScanWarning


def package_to_json(p: Package) -> dict[str, Any]:
    return {
        "name": p.name,
        "version": p.version,
        "ecosystem": p.ecosystem,
        "package_manager": p.package_manager.value,
        "purl": p.purl,
        "path": p.path,
        "layer": p.layer,
        "source_name": p.source_name,
        "source_version": p.source_version,
        "arch": p.arch,
        "licenses": list(p.licenses),
    }


def package_from_json(d: dict[str, Any]) -> Package:
    return Package(
        name=d["name"],
        version=d["version"],
        ecosystem=d["ecosystem"],
        package_manager=PackageManager(d["package_manager"]),
        purl=d.get("purl", ""),
        path=d.get("path", ""),
        layer=d.get("layer", ""),
        source_name=d.get("source_name", ""),
        source_version=d.get("source_version", ""),
        arch=d.get("arch", ""),
        licenses=tuple(d.get("licenses") or ()),
    )


def warning_to_json(w: ScanWarning) -> dict[str, str]:
    return {"path": w.path, "layer": w.layer, "analyzer": w.analyzer, "reason": w.reason}


def warning_from_json(w: dict[str, str] | list[str]) -> ScanWarning:
    return ScanWarning(*w) if isinstance(w, list) else ScanWarning(**w)


def distro_to_json(d: Distro) -> dict[str, Any]:
    return {
        "id": d.id,
        "version_id": d.version_id,
        "codename": d.codename,
        "pretty_name": d.pretty_name,
        "recognised": d.recognised,
    }


def inventory_to_json(inv: Inventory) -> dict[str, Any]:
    return {
        "distro": None if inv.distro is None else distro_to_json(inv.distro),
        "packages": [package_to_json(p) for p in inv.packages],
        "warnings": [warning_to_json(w) for w in inv.warnings],
        "platform": inv.platform,
        "layers": list(inv.layers),
    }


def inventory_from_json(doc: dict[str, Any]) -> Inventory:
    return Inventory(
        distro=Distro(**doc["distro"]) if doc["distro"] else None,
        packages=tuple(package_from_json(p) for p in doc["packages"]),
        warnings=tuple(warning_from_json(w) for w in doc["warnings"]),
        platform=doc["platform"],
        layers=tuple(doc["layers"]),
    )
