"""Stored inventories: the analyzed packages of a manifest, and the re-scan package index."""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tidegate import schema as t
from tidegate.db import insert_ignoring_conflicts, rows_for_ids
from tidegate.scanner.match import MatchTarget, targets
from tidegate.scanner.model import Inventory
from tidegate.scanner.model_json import (
    inventory_from_json,
    inventory_to_json,
    package_from_json,
    package_to_json,
)

_CHUNK = 500  # bound parameters per IN list


def encode_inventory(inv: Inventory) -> bytes:
    return zlib.compress(json.dumps(inventory_to_json(inv), sort_keys=True).encode(), 6)


def decode_inventory(blob: bytes) -> Inventory:
    return inventory_from_json(json.loads(zlib.decompress(blob)))


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
    conn.execute(
        sa.insert(t.image_inventories).values(
            digest=digest, inventory=encode_inventory(inv), analyzer_key=analyzer_key,
            analyzed_at=now,
        )
    )  # fmt: skip
    index_inventories(conn, [(digest, inv)])


def _indexed_doc(target: MatchTarget) -> str:
    return json.dumps(
        {"version": target.version, "package": package_to_json(target.package)}, sort_keys=True
    )


def _package_ids(conn: Connection, docs: dict[str, MatchTarget]) -> dict[str, int]:
    """package hash -> indexed_packages.id, inserting the packages not indexed yet."""
    table = t.indexed_packages
    ids: dict[str, int] = {}

    def look(hashes: list[str]) -> None:
        for start in range(0, len(hashes), _CHUNK):
            rows = conn.execute(
                sa.select(table.c.package_hash, table.c.id).where(
                    table.c.package_hash.in_(hashes[start : start + _CHUNK])
                )
            )
            ids.update((str(h), int(i)) for h, i in rows)

    look(sorted(docs))
    missing = [h for h in sorted(docs) if h not in ids]
    if missing:
        # Two workers may index images sharing a package at once (PostgreSQL).
        insert_ignoring_conflicts(
            conn,
            table,
            [
                {"namespace": docs[h].namespace, "name": docs[h].name, "package_hash": h,
                 "package": _indexed_doc(docs[h])}
                for h in missing
            ],
            "package_hash",
        )  # fmt: skip
        look(missing)
    return ids


def index_inventories(conn: Connection, items: list[tuple[str, Inventory]]) -> None:
    """(Re)build the re-scan index rows of many inventories (by manifest digest)."""
    digests = sorted({digest for digest, _inv in items})
    for start in range(0, len(digests), _CHUNK):
        conn.execute(
            sa.delete(t.inventory_packages).where(
                t.inventory_packages.c.digest.in_(digests[start : start + _CHUNK])
            )
        )
    docs: dict[str, MatchTarget] = {}
    links: set[tuple[str, str]] = set()
    for digest, inv in items:
        for target in targets(inv, include_language=True):
            doc = _indexed_doc(target)
            package_hash = hashlib.sha256(doc.encode()).hexdigest()
            docs.setdefault(package_hash, target)
            links.add((package_hash, digest))
    if not links:
        return
    ids = _package_ids(conn, docs)
    conn.execute(
        sa.insert(t.inventory_packages),
        [{"package_id": ids[h], "digest": d} for h, d in sorted(links)],
    )


def changed_packages(conn: Connection, keys: set[tuple[str, str]]) -> dict[int, MatchTarget]:
    """Every indexed package under the changed advisory keys, by id, decoded once."""
    packages = t.indexed_packages
    by_id: dict[int, MatchTarget] = {}
    by_namespace: dict[str, list[str]] = {}
    for namespace, name in keys:
        by_namespace.setdefault(namespace, []).append(name)
    for namespace, names in by_namespace.items():
        names.sort()
        for start in range(0, len(names), _CHUNK):
            rows = conn.execute(
                sa.select(packages.c.id, packages.c.name, packages.c.package).where(
                    packages.c.namespace == namespace,
                    packages.c.name.in_(names[start : start + _CHUNK]),
                )
            )
            for package_id, name, raw in rows:
                doc = json.loads(raw)
                by_id[int(package_id)] = MatchTarget(
                    namespace, str(name), doc["version"], package_from_json(doc["package"])
                )
    return by_id


def images_with(conn: Connection, package_ids: Iterable[int]) -> set[str]:
    """Digests of the images holding any of the packages."""
    sql = "SELECT DISTINCT digest FROM inventory_packages WHERE package_id IN ({})"
    return {str(d) for (d,) in rows_for_ids(conn, sql, sorted(package_ids))}


def packages_of_images(conn: Connection, package_ids: Iterable[int]) -> dict[str, list[int]]:
    """image digest -> which of the packages it holds."""
    sql = "SELECT package_id, digest FROM inventory_packages WHERE package_id IN ({})"
    out: dict[str, list[int]] = {}
    for package_id, digest in rows_for_ids(conn, sql, sorted(package_ids)):
        out.setdefault(str(digest), []).append(int(package_id))
    return out
