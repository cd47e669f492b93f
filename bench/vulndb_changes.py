"""Benchmark: change-set computation between two DB versions.

    .venv/bin/python bench/vulndb_changes.py [--db DIR]

Copies the DB left by bench/vulndb_import.py, then publishes a second version in which one
source (ghsa-npm) changed: about a tenth of its records dropped and one edited. Times the
update (only that source re-parsed, the others carried over), `changes()` from the stored
change set, and the direct file-to-file comparison used when intermediate versions are gone.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import sqlite3
import tarfile
import tempfile
import time
from pathlib import Path

from tidegate.scanner.vulndb import layout
from tidegate.scanner.vulndb.diff import compare_files
from tidegate.scanner.vulndb.manager import update
from tidegate.scanner.vulndb.store import VulnStore

DEFAULT_DB = Path(__file__).resolve().parents[1] / ".cache" / "vulndb-bench"
SOURCE = Path(__file__).resolve().parents[2] / "shared" / "vulndata" / "ghsa" / "ghsa-npm.tar.xz"


def _changed_mirror(dest: Path) -> None:
    out = dest / "ghsa" / "ghsa-npm.tar.xz"
    out.parent.mkdir(parents=True)
    with tarfile.open(SOURCE, "r:xz") as src, tarfile.open(out, "w:xz") as dst:
        for n, info in enumerate(m for m in src if m.isfile()):
            fh = src.extractfile(info)
            assert fh is not None
            data = fh.read()
            if n % 10 == 0:
                continue
            if n == 1:
                doc = json.loads(data)
                doc["summary"] = "edited"
                doc["affected"][0]["versions"] = ["0.0.0-bench"]
                data = json.dumps(doc).encode()
            info.size = len(data)
            dst.addfile(info, io.BytesIO(data))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=DEFAULT_DB)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.db.parent) as tmp:
        work = Path(tmp) / "db"
        shutil.copytree(args.db, work)
        mirror = Path(tmp) / "mirror"
        _changed_mirror(mirror)
        v1 = layout.current_version(work)
        assert v1 is not None
        start = time.perf_counter()
        result = update(work, mirror=str(mirror), only=["ghsa-npm"])
        print(f"update with one changed source: {time.perf_counter() - start:.1f} s, "
              f"{result.changed_keys} keys changed")  # fmt: skip
        store = VulnStore(work)
        start = time.perf_counter()
        stored = store.changes(v1)
        print(f"changes(v{v1}) from the stored change set: {len(stored)} keys in "
              f"{(time.perf_counter() - start) * 1000:.1f} ms")  # fmt: skip
        start = time.perf_counter()
        direct = compare_files(
            sqlite3.connect(":memory:"),
            str(layout.version_path(work, store.version)),
            str(layout.version_path(work, v1)),
        )
        print(f"direct comparison of the two files: {len(direct)} keys in "
              f"{(time.perf_counter() - start) * 1000:.1f} ms")  # fmt: skip
        assert direct == stored


if __name__ == "__main__":
    main()
