"""Scans per minute with 1 and 2 `tidegate worker` processes over one PostgreSQL database.

    .venv/bin/python bench/scale_scans.py [--images 40] [--rounds 1]

Each round, for 1 and then 2 workers: a fresh PostgreSQL database, one `tidegate serve
--no-workers` replica that takes the pushes, and N images (a bookworm package database,
each with a unique layer, BASIC scan on push) pushed while no worker runs, so every scan is
queued. Then the workers start (one scan thread each, their own data directories, no layer
cache, the same vulnerability DB version copied in) and the clock runs from the first claim
to the last completed scan. Prints both rates and the ratio (2 workers / 1 worker).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from bench.engine_api import layer_with, push  # noqa: E402

from tests.support import debian_image  # noqa: E402
from tests.support.paths import VULNDATA  # noqa: E402
from tests.support.postgres import fresh_database  # noqa: E402
from tests.support.scan_fixtures import db_update  # noqa: E402
from tests.support.server import TidegateServer  # noqa: E402
from tidegate import schema as t  # noqa: E402
from tidegate.auth.secrets_box import KEY_FILE  # noqa: E402
from tidegate.db import create_engine  # noqa: E402


def _count(engine: sa.Engine, *states: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(t.scan_jobs)
                .where(t.scan_jobs.c.kind == "scan", t.scan_jobs.c.state.in_(states))
            ).scalar_one()
        )


def one_round(root: Path, vulndb: Path, images: int, workers: int) -> float:
    """Scans per minute of `workers` worker processes over `images` queued scans."""
    status = (debian_image.base_rootfs() / "var/lib/dpkg/status").read_bytes()
    with fresh_database() as url:
        env = {
            "TIDEGATE_DATABASE_URL": url,
            "TIDEGATE_BLOB_ROOT": str(root / "blobs"),
            "TIDEGATE_ANONYMOUS_ACCESS": "push",
            "TIDEGATE_ACCESS_LOG": "false",
            "TIDEGATE_LOG_FORMAT": "text",
            "TIDEGATE_VULNDB_IMPORT_ON_START": "false",
        }
        engine = create_engine(url)
        procs: list[subprocess.Popen[bytes]] = []
        with TidegateServer(root / "replica", env=env, args=["--no-workers"]) as server:
            server.ecr().create_repository(
                repositoryName="bench/scale", imageScanningConfiguration={"scanOnPush": True}
            )
            with httpx.Client(base_url=server.url, timeout=60) as client:
                for i in range(images):
                    push(client, "bench/scale", f"v{i}", layer_with(status, i))
            assert _count(engine, "queued") == images
            master_key = (root / "replica" / KEY_FILE).read_bytes()
            try:
                for n in range(workers):
                    data = root / f"worker-{n}"
                    shutil.copytree(vulndb, data / "vulndb")
                    (data / KEY_FILE).write_bytes(master_key)
                    cmd = [sys.executable, "-m", "tidegate", "worker", "--data-dir", str(data),
                           "--concurrency", "1"]  # fmt: skip
                    with (root / f"worker-{n}.log").open("ab") as log:
                        procs.append(
                            subprocess.Popen(cmd, env={**os.environ, **env}, stdout=log, stderr=log)
                        )
                deadline = time.monotonic() + 1800
                while _count(engine, "queued") == images:
                    assert time.monotonic() < deadline
                    time.sleep(0.05)
                started = time.perf_counter()
                while _count(engine, "done", "failed") < images:
                    assert time.monotonic() < deadline, "scans did not finish"
                    time.sleep(0.1)
                elapsed = time.perf_counter() - started
                assert _count(engine, "failed") == 0
            finally:
                for proc in procs:
                    proc.terminate()
                for proc in procs:
                    proc.wait(30)
        engine.dispose()
    return images / elapsed * 60


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    os.environ.setdefault("TIDEGATE_LOG_FORMAT", "text")
    with tempfile.TemporaryDirectory(prefix="tidegate-scale-bench-") as tmp:
        base = Path(tmp)
        db_update(base / "vulndb-build", VULNDATA, only="debian-osv", timeout=None)
        vulndb = base / "vulndb-build" / "vulndb"
        for r in range(args.rounds):
            rates = {n: one_round(base / f"round-{r}-{n}", vulndb, args.images, n) for n in (1, 2)}
            print(
                f"round {r + 1}: {args.images} BASIC scans (bookworm package DB): "
                f"1 worker {rates[1]:.0f}/min, 2 workers {rates[2]:.0f}/min, "
                f"ratio {rates[2] / rates[1]:.2f}x (cores: {os.cpu_count()})",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
