"""Benchmark: full import of the shared vulnerability-data mirror into a new DB version.

    .venv/bin/python bench/vulndb_import.py [--source /work/shared/vulndata] [--out DIR]

Prints wall and CPU time, per-source record counts and the DB size. The built DB is left in
DIR (default .cache/vulndb-bench) for bench/vulndb_lookup.py and bench/vulndb_changes.py.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import time
from pathlib import Path

from tidegate.scanner.vulndb import layout
from tidegate.scanner.vulndb.manager import update
from tidegate.scanner.vulndb.store import VulnStore

DEFAULT_OUT = Path(__file__).resolve().parents[1] / ".cache" / "vulndb-bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source", default=str(Path(__file__).resolve().parents[2] / "shared" / "vulndata")
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--only", nargs="*")
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    wall, cpu = time.perf_counter(), time.process_time()
    result = update(args.out, mirror=args.source, only=args.only)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    for src in result.sources:
        print(f"  {src.name:20} {src.status:9} records={src.records:>8} skipped={src.skipped}"
              f" {src.seconds:6.1f} s")  # fmt: skip
    print(f"  merge + change set: {result.merge_seconds:.1f} s")
    version = layout.current_version(args.out)
    assert version is not None
    size = layout.version_path(args.out, version).stat().st_size
    counts = VulnStore(args.out).counts()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"full import: {wall:.1f} s wall, {cpu:.1f} s CPU, peak RSS {peak:.0f} MB")
    print(
        f"DB version {version}: {size / 1e6:.0f} MB, "
        + ", ".join(f"{k}={v}" for k, v in counts.items())
    )


if __name__ == "__main__":
    main()
