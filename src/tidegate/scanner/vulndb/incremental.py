"""Incremental merge: re-merge only the package keys a changed source can have touched.

A key is dirty when a changed source has (or had) records for it, or when one of its
vulnerabilities' CVSS score or KEV flag changed (those are joined across sources by id and
alias). Every other key's merged blob, ids and aliases are copied from the previous version
unchanged, which is what a full merge would produce for them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Set

_NOT_DIRTY = (
    "NOT EXISTS (SELECT 1 FROM dirty d WHERE d.namespace = t.namespace AND d.name = t.name)"
)


def changed_ids(
    new_scores: Mapping[str, float],
    new_kev: Set[str],
    old_scores: Mapping[str, float],
    old_kev: Set[str],
) -> set[str]:
    """Ids whose joined CVSS score or known-exploited flag differs between two versions."""
    ids = {
        i for i in new_scores.keys() | old_scores.keys() if new_scores.get(i) != old_scores.get(i)
    }
    return ids | (set(new_kev) ^ set(old_kev))


def mark_dirty(conn: sqlite3.Connection, sources: Set[str], ids: Set[str]) -> int:
    """Fill the temp table `dirty` with the keys to re-merge; returns how many."""
    conn.execute(
        "CREATE TEMP TABLE dirty(namespace TEXT, name TEXT, PRIMARY KEY(namespace, name))"
        " WITHOUT ROWID"
    )
    conn.execute("CREATE TEMP TABLE dirty_ids(id TEXT PRIMARY KEY) WITHOUT ROWID")
    conn.executemany("INSERT INTO dirty_ids VALUES (?)", [(i,) for i in sorted(ids)])
    if sources:
        marks = ",".join("?" * len(sources))
        for schema in ("main", "prev"):
            conn.execute(
                "INSERT OR IGNORE INTO dirty SELECT namespace, name FROM "
                f"{schema}.src_entries WHERE source IN ({marks})",
                sorted(sources),
            )
    conn.execute(
        "INSERT OR IGNORE INTO dirty SELECT namespace, name FROM prev.vuln_keys"
        " WHERE id IN (SELECT id FROM dirty_ids)"
    )
    conn.execute(
        "INSERT OR IGNORE INTO dirty SELECT namespace, name FROM prev.aliases"
        " WHERE alias IN (SELECT id FROM dirty_ids)"
    )
    return int(conn.execute("SELECT count(*) FROM dirty").fetchone()[0])


def copy_clean(conn: sqlite3.Connection) -> None:
    """Copy the previous version's merged rows for every key that is not dirty."""
    for table in ("packages", "vuln_keys", "aliases"):
        conn.execute(f"INSERT INTO {table} SELECT * FROM prev.{table} t WHERE {_NOT_DIRTY}")
