"""Benchmark: VulnStore.lookup throughput (package keys per second) from one process.

    .venv/bin/python bench/vulndb_lookup.py [--db DIR] [--n 200000]

Uses the DB left by bench/vulndb_import.py. Three workloads: keys that exist in the DB
(cold: every key decoded once, cache off), a realistic mix of repeated image packages
(warm cache), and keys absent from the DB (most packages of an image have no advisory).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import time
from pathlib import Path

from tidegate.scanner.vulndb import layout
from tidegate.scanner.vulndb.store import VulnStore

DEFAULT_DB = Path(__file__).resolve().parents[1] / ".cache" / "vulndb-bench"


def _rate(store: VulnStore, keys: list[tuple[str, str]]) -> tuple[float, int]:
    found = 0
    start = time.perf_counter()
    for ns, name in keys:
        found += len(store.lookup(ns, name))
    return len(keys) / (time.perf_counter() - start), found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=DEFAULT_DB)
    parser.add_argument("--n", type=int, default=200_000)
    args = parser.parse_args()
    version = layout.current_version(args.db)
    assert version is not None, "run bench/vulndb_import.py first"
    conn = sqlite3.connect(layout.version_path(args.db, version))
    keys = [(r[0], r[1]) for r in conn.execute("SELECT namespace, name FROM packages")]
    conn.close()
    rng = random.Random(4)
    print(f"DB version {version}: {len(keys)} package keys")

    distinct = rng.sample(keys, min(args.n, len(keys)))
    rate, found = _rate(VulnStore(args.db, cache_size=0), distinct)
    print(f"cold, existing keys, no cache:      {rate:>10,.0f} lookups/s ({found} advisories)")

    # 2,000 distinct packages (a fleet of images sharing base layers), looked up repeatedly.
    fleet = rng.sample(keys, 1500) + [("npm", f"absent-{i}") for i in range(500)]
    workload = [rng.choice(fleet) for _ in range(args.n)]
    store = VulnStore(args.db)
    rate, found = _rate(store, workload)
    print(f"image-like mix, warm cache:          {rate:>10,.0f} lookups/s ({found} advisories)")

    absent = [("PyPI", f"no-such-package-{i}") for i in range(args.n)]
    rate, _ = _rate(VulnStore(args.db, cache_size=0), absent)
    print(f"absent keys, no cache:               {rate:>10,.0f} lookups/s")


if __name__ == "__main__":
    main()
