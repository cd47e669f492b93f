"""Benchmark: vulnerability DB lookups and matches per second from one process.

    .venv/bin/python bench/vulndb_lookup.py [--db DIR] [--n 100000]

Uses the DB left by bench/vulndb_import.py. A *lookup* fetches one package key's stored
advisories (`VulnStore.package`); a *match* is what a scan does per package: the lookup,
then every stored range evaluated for the installed version and Advisory objects built for
the entries that affect it (`PackageEntries.affecting`). "Cold" means a new store with its
cache off, every key read from the file; the installed version is the fixed version of one
of the key's advisories, picked at random, so a match both hits and misses. "Warm" is a
fleet of images sharing 2,000 packages, looked up again and again. The last line decodes
every advisory of every key (`VulnStore.lookup`), as `db show` and the re-scan's diff do.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from tidegate.scanner.vulndb import layout
from tidegate.scanner.vulndb.store import VulnStore

DEFAULT_DB = Path(__file__).resolve().parents[1] / ".cache" / "vulndb-bench"

Key = tuple[str, str, str]  # namespace, name, installed version


def _rate(keys: list[Key], op: Callable[[str, str, str], int]) -> tuple[float, int]:
    found = 0
    start = time.perf_counter()
    for ns, name, version in keys:
        found += op(ns, name, version)
    return len(keys) / (time.perf_counter() - start), found


def _installed(store: VulnStore, ns: str, name: str, rng: random.Random) -> str:
    """A plausible installed version: one advisory's fix, else a listed version, else 0."""
    choices = [r[5] or (r[3][0] if r[3] else "0") for r in store.entries(ns, name)]
    return rng.choice(choices).split(",")[0].strip() if choices else "0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=DEFAULT_DB)
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    version = layout.current_version(args.db)
    assert version is not None, "run bench/vulndb_import.py first"
    conn = sqlite3.connect(layout.version_path(args.db, version))
    names = [(r[0], r[1]) for r in conn.execute("SELECT namespace, name FROM packages")]
    conn.close()
    rng = random.Random(4)
    print(f"DB version {version}: {len(names)} package keys")
    setup = VulnStore(args.db, cache_size=0)
    keys = [(ns, n, _installed(setup, ns, n, rng)) for ns, n in rng.sample(names, args.n)]
    setup.close()

    def lookup(store: VulnStore) -> Callable[[str, str, str], int]:
        return lambda ns, name, _: 1 if store.package(ns, name) else 0

    def match(store: VulnStore) -> Callable[[str, str, str], int]:
        return lambda ns, name, v: len(store.package(ns, name).affecting(v))

    def decode(store: VulnStore) -> Callable[[str, str, str], int]:
        return lambda ns, name, _: len(store.lookup(ns, name))

    fleet = rng.sample(keys, 1500) + [("npm", f"absent-{i}", "1.0.0") for i in range(500)]
    workload = [rng.choice(fleet) for _ in range(args.n)]
    absent = [("PyPI", f"no-such-package-{i}", "1.0") for i in range(args.n)]
    runs = [
        ("lookup, cold, existing keys", keys, lookup, 0),
        ("lookup, cold, absent keys", absent, lookup, 0),
        ("match, cold, existing keys", keys, match, 0),
        ("match, image-like mix, warm", workload, match, 65536),
        ("decode every advisory, cold", keys, decode, 0),
    ]
    for label, work, op, cache in runs:
        store = VulnStore(args.db, cache_size=cache)
        rate, found = _rate(work, op(store))
        store.close()
        print(f"{label:32} {rate:>10,.0f} per s  ({found} found)")


if __name__ == "__main__":
    main()
