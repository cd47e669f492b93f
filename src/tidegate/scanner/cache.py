"""Per-layer result cache in one SQLite file, keyed by (layer digest, analyzer, version).

SQLite rather than loose files: one file per cache dir, atomic writes (a crashed scan leaves
no half-written entry), safe concurrent readers and writers across worker processes (WAL),
and a lookup of all analyzers of a layer in one indexed query. Bumping an analyzer's version
makes its old rows unreachable; `put` deletes them so the file does not grow.
"""

from __future__ import annotations

import sqlite3
import zlib
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS layer_results (
    layer TEXT NOT NULL,
    analyzer TEXT NOT NULL,
    version INTEGER NOT NULL,
    payload BLOB NOT NULL,
    PRIMARY KEY (layer, analyzer, version)
)
"""


class LayerCache:
    """Stores opaque payloads per (layer digest, analyzer name, analyzer version)."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "layers.sqlite"
        self._con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=NORMAL")
        self._con.execute(_SCHEMA)

    def close(self) -> None:
        self._con.close()

    def get(self, layer: str, analyzer: str, version: int) -> bytes | None:
        row = self._con.execute(
            "SELECT payload FROM layer_results WHERE layer=? AND analyzer=? AND version=?",
            (layer, analyzer, version),
        ).fetchone()
        return None if row is None else zlib.decompress(row[0])

    def get_layer(self, layer: str) -> dict[tuple[str, int], bytes]:
        """Every cached payload of a layer, keyed by (analyzer, version)."""
        rows = self._con.execute(
            "SELECT analyzer, version, payload FROM layer_results WHERE layer=?", (layer,)
        ).fetchall()
        return {(a, v): zlib.decompress(p) for a, v, p in rows}

    def put(self, layer: str, analyzer: str, version: int, payload: bytes) -> None:
        with self._con:
            self._con.execute("BEGIN IMMEDIATE")
            self._con.execute(
                "DELETE FROM layer_results WHERE layer=? AND analyzer=? AND version<>?",
                (layer, analyzer, version),
            )
            self._con.execute(
                "INSERT OR REPLACE INTO layer_results VALUES (?, ?, ?, ?)",
                (layer, analyzer, version, zlib.compress(payload, 1)),
            )

    def count(self) -> int:
        return int(self._con.execute("SELECT count(*) FROM layer_results").fetchone()[0])
