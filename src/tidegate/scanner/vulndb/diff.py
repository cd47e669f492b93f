"""Change sets: the (namespace, package) keys whose advisories differ between two versions.

Each package blob carries a digest, so comparing two versions is a join on the key.
"""

from __future__ import annotations

import sqlite3

_DIFF = """
SELECT n.namespace, n.name, 'added' FROM {new}.packages n
  LEFT JOIN {old}.packages o ON o.namespace = n.namespace AND o.name = n.name
  WHERE o.name IS NULL
UNION ALL
SELECT n.namespace, n.name, 'changed' FROM {new}.packages n
  JOIN {old}.packages o ON o.namespace = n.namespace AND o.name = n.name
  WHERE o.digest != n.digest
UNION ALL
SELECT o.namespace, o.name, 'withdrawn' FROM {old}.packages o
  LEFT JOIN {new}.packages n ON o.namespace = n.namespace AND o.name = n.name
  WHERE n.name IS NULL
"""


def diff_query(new: str, old: str) -> str:
    """SQL yielding (namespace, name, kind) for schemas `new` and `old` on one connection."""
    return _DIFF.format(new=new, old=old)


def record_changes(conn: sqlite3.Connection, *, has_previous: bool) -> int:
    """Fill `changes` of the DB being built (schema `main`) against `prev`; returns the count.

    Without a previous version every key counts as added.
    """
    if has_previous:
        sql = "INSERT INTO changes " + diff_query("main", "prev")
    else:
        sql = "INSERT INTO changes SELECT namespace, name, 'added' FROM packages"
    conn.execute(sql)
    row = conn.execute("SELECT count(*) FROM changes").fetchone()
    return int(row[0])


def compare_files(conn: sqlite3.Connection, new: str, old: str) -> set[tuple[str, str]]:
    """Keys that differ between two version files, computed directly."""
    conn.execute("ATTACH DATABASE ? AS d_new", (f"file:{new}?mode=ro",))
    conn.execute("ATTACH DATABASE ? AS d_old", (f"file:{old}?mode=ro",))
    try:
        return {(ns, name) for ns, name, _ in conn.execute(diff_query("d_new", "d_old"))}
    finally:
        conn.execute("DETACH DATABASE d_new")
        conn.execute("DETACH DATABASE d_old")
