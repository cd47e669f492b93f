"""One owner per table: which modules write each table (insert, update, delete, upsert),
read from the source. A new writer fails; move the write behind the owner's functions."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import tidegate

ROOT = Path(tidegate.__file__).parent
WRITES = frozenset(
    {"insert", "update", "delete", "bulk_insert", "bulk_update", "update_or_insert",
     "insert_ignoring_conflicts"}
)  # fmt: skip

# Retention is the second writer of the scan-data tables on purpose: its purge is a set of
# set-based statements that must stay together (see docs/decisions.md, "Table owners").
OWNERS = {
    "access_keys": {"auth.keys", "auth.users"},
    "audit_events": {"auth.audit"},
    "blobs": {"registry.gc", "registry.metadata"},
    "finding_details": {"engine.findings", "engine.retention"},
    "finding_filters": {"engine.finding_filters"},
    "findings": {"engine.findings", "engine.retention"},
    "findings_daily": {"engine.overview"},
    "iam_user_policies": {"auth.users"},
    "iam_users": {"auth.users"},
    "image_inventories": {"engine.inventories", "engine.retention"},
    "image_scans": {"engine.scans"},
    "inspector_reports": {"engine.reports"},
    "indexed_packages": {"engine.inventories", "engine.retention"},
    "inventory_packages": {"engine.inventories", "engine.retention"},
    "layer_upload_parts": {"registry.uploads"},
    "lifecycle_policies": {"registry.lifecycle"},
    "manifest_refs": {"registry.metadata", "registry.repositories"},
    "manifests": {"registry.metadata", "registry.repositories"},
    "registry_policies": {"auth.resource_policies"},
    "registry_generation": {"registry.metadata"},
    "registry_settings": {"engine.rescan", "registry.repositories"},
    "repositories": {"registry.metadata", "registry.repositories"},
    "repository_blobs": {"registry.metadata"},
    "repository_policies": {"auth.resource_policies"},
    "repository_resource_tags": {"registry.repositories"},
    "scan_jobs": {"engine.jobs"},
    "scan_usage": {"engine.usage"},
    "tags": {"registry.metadata", "registry.repositories"},
    "uploads": {"registry.gc", "registry.uploads"},
    "vulndb_chunks": {"engine.vulndb_share"},
    "vulndb_versions": {"engine.vulndb_share"},
    "vex_statements": {"engine.vex"},
}


def _schema_table(node: ast.expr) -> str | None:
    """`t.name` (the schema module is imported as `t` throughout) -> name."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return node.attr if node.value.id == "t" else None
    return None


def _tables_written(tree: ast.AST) -> set[str]:
    aliases: dict[str, str] = {}  # `s = t.image_scans` and `f, s = t.findings, t.image_scans`
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
            pairs = [(target, value)]
            if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
                pairs = list(zip(target.elts, value.elts, strict=False))
            for name, table in pairs:
                if isinstance(name, ast.Name) and (found := _schema_table(table)):
                    aliases[name.id] = found
    written: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if called not in WRITES:
            continue
        for arg in node.args[:2]:  # sa.update(table) / bulk_update(conn, table, ...)
            written_table = _schema_table(arg)
            if written_table is None and isinstance(arg, ast.Name):
                written_table = aliases.get(arg.id)
            if written_table is not None:
                written.add(written_table)
    return written


def _writers() -> dict[str, set[str]]:
    writers: dict[str, set[str]] = defaultdict(set)
    for path in ROOT.rglob("*.py"):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        if module.startswith("migrations"):
            continue
        for table in _tables_written(ast.parse(path.read_text(encoding="utf-8"))):
            writers[table].add(module)
    return dict(writers)


def test_the_writes_were_read() -> None:
    assert _writers()["scan_jobs"] == {"engine.jobs"}


def test_every_table_is_written_only_by_its_owners() -> None:
    assert _writers() == OWNERS


def test_image_scans_has_one_owner() -> None:
    assert _writers()["image_scans"] == {"engine.scans"}
