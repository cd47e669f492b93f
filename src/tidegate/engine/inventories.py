"""Stored inventories: the analyzed packages of a manifest, and the re-scan package index."""

from __future__ import annotations

import json
import zlib
from dataclasses import asdict

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tidegate import schema as t
from tidegate.scanner.match import MatchTarget, targets
from tidegate.scanner.model import Distro, Inventory, Package, PackageManager, ScanWarning


def package_to_dict(pkg: Package) -> dict[str, object]:
    data = asdict(pkg)
    data["package_manager"] = pkg.package_manager.value
    data["licenses"] = list(pkg.licenses)
    return data


def package_from_dict(data: dict[str, object]) -> Package:
    fields = dict(data)
    fields["package_manager"] = PackageManager(str(fields["package_manager"]))
    licenses = fields.get("licenses") or ()
    fields["licenses"] = tuple(str(x) for x in licenses) if isinstance(licenses, list) else ()
    return Package(**fields)  # type: ignore[arg-type]


def encode_inventory(inv: Inventory) -> bytes:
    doc = {
        "distro": asdict(inv.distro) if inv.distro else None,
        "packages": [package_to_dict(p) for p in inv.packages],
        "warnings": [asdict(w) for w in inv.warnings],
        "platform": inv.platform,
        "layers": list(inv.layers),
    }
    return zlib.compress(json.dumps(doc, sort_keys=True).encode(), 6)


def decode_inventory(blob: bytes) -> Inventory:
    doc = json.loads(zlib.decompress(blob))
    distro = Distro(**doc["distro"]) if doc["distro"] else None
    return Inventory(
        distro=distro,
        packages=tuple(package_from_dict(p) for p in doc["packages"]),
        warnings=tuple(ScanWarning(**w) for w in doc["warnings"]),
        platform=doc["platform"],
        layers=tuple(doc["layers"]),
    )


def load_inventory(conn: Connection, digest: str, analyzer_key: str) -> Inventory | None:
    """The stored inventory, when it was made by the current analyzers."""
    row = conn.execute(
        sa.select(t.image_inventories.c.inventory, t.image_inventories.c.analyzer_key).where(
            t.image_inventories.c.digest == digest
        )
    ).first()
    if row is None or row[1] != analyzer_key:
        return None
    return decode_inventory(row[0])


def save_inventory(
    conn: Connection, digest: str, inv: Inventory, analyzer_key: str, now: float
) -> None:
    """Store the inventory and index every package under its advisory key."""
    conn.execute(sa.delete(t.image_inventories).where(t.image_inventories.c.digest == digest))
    conn.execute(sa.delete(t.inventory_packages).where(t.inventory_packages.c.digest == digest))
    conn.execute(
        sa.insert(t.image_inventories).values(
            digest=digest, inventory=encode_inventory(inv), analyzer_key=analyzer_key,
            analyzed_at=now,
        )
    )  # fmt: skip
    rows = [
        {
            "namespace": target.namespace,
            "name": target.name,
            "digest": digest,
            "package": json.dumps(
                {"version": target.version, "package": package_to_dict(target.package)}
            ),
        }
        for target in targets(inv, include_language=True)
    ]
    if rows:
        conn.execute(sa.insert(t.inventory_packages), rows)


def indexed_targets(conn: Connection, keys: set[tuple[str, str]]) -> dict[str, list[MatchTarget]]:
    """For changed advisory keys: image digest -> the packages under those keys."""
    out: dict[str, list[MatchTarget]] = {}
    # Images built on one base share identical rows: decode each distinct row once.
    decoded: dict[str, MatchTarget] = {}
    by_namespace: dict[str, list[str]] = {}
    for namespace, name in keys:
        by_namespace.setdefault(namespace, []).append(name)
    for namespace, names in by_namespace.items():
        for start in range(0, len(names), 500):
            rows = conn.execute(
                sa.select(
                    t.inventory_packages.c.digest,
                    t.inventory_packages.c.name,
                    t.inventory_packages.c.package,
                ).where(
                    t.inventory_packages.c.namespace == namespace,
                    t.inventory_packages.c.name.in_(names[start : start + 500]),
                )
            )
            for digest, name, raw in rows:
                target = decoded.get(raw)
                if target is None:
                    doc = json.loads(raw)
                    target = MatchTarget(
                        namespace, name, doc["version"], package_from_dict(doc["package"])
                    )
                    decoded[raw] = target
                out.setdefault(digest, []).append(target)
    return out
