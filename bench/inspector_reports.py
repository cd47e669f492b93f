"""Inspector findings reports over many stored findings (seeded as bench/inspector_api.py does).

    .venv/bin/python bench/inspector_reports.py [--repos 100] [--images 10] [--per-image 100]

Default: 100,000 findings. Times a CSV and a JSON findings report of every finding, run as
its queued job runs (`ReportJobs.run`: SQL, rendering, the folder write); peer: paging the
same findings out through ListFindings (maxResults 100, what a client does without reports),
measured in the same run. Prints findings per second and the ratio report / peer time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "src"))
sys.path.insert(0, str(REPO_ROOT / "bench"))

import sqlalchemy as sa  # noqa: E402
from inspector_api import seed  # noqa: E402

from tidegate.config import Settings  # noqa: E402
from tidegate.db import create_engine, migrate, reading  # noqa: E402
from tidegate.engine import reports  # noqa: E402
from tidegate.engine.jobs import JobQueue  # noqa: E402
from tidegate.events.model import Origin  # noqa: E402
from tidegate.inspector import findings  # noqa: E402
from tidegate.inspector.reports import ReportJobs  # noqa: E402

KMS = "arn:aws:kms:us-east-1:123456789012:key/bench"


def run_report(engine: sa.Engine, runner: ReportJobs, fmt: str) -> float:
    queue = JobQueue(engine)
    report_id = reports.create(
        engine,
        kind="findings", report_format=fmt, criteria={}, now=time.time(),
        destination={"bucketName": "bench", "keyPrefix": fmt.lower(), "kmsKeyArn": KMS},
    )  # fmt: skip
    started = time.perf_counter()
    job = queue.claim("bench", 600)
    assert job is not None
    outcome = runner.run(job)
    with engine.begin() as conn:
        outcome(conn)
        queue.complete(job, conn)
    elapsed = time.perf_counter() - started
    done = reports.get(engine, report_id, "findings")
    assert done is not None
    assert done.status == "SUCCEEDED", done
    return elapsed


def page_out(engine: sa.Engine, origin: Origin) -> tuple[float, int]:
    started = time.perf_counter()
    count = offset = 0
    with reading(engine) as conn:
        while True:
            page = findings.list_findings(conn, origin, {}, None, offset=offset, limit=100)
            count += len(page.findings)
            offset += 100
            if not page.more:
                break
    return time.perf_counter() - started, count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repos", type=int, default=100)
    parser.add_argument("--images", type=int, default=10)
    parser.add_argument("--per-image", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'meta.db'}")
        migrate(engine)
        seed(engine, args.repos, args.images, args.per_image)
        total = args.repos * args.images * args.per_image
        origin = Origin("123456789012", "us-east-1")
        runner = ReportJobs(Settings(data_dir=Path(tmp)), engine, origin)
        peer, count = page_out(engine, origin)
        assert count == total, count
        print(f"{total:,} findings; peer (ListFindings pages of 100): {peer:.2f} s "
              f"({total / peer:,.0f}/s)")  # fmt: skip
        for fmt in ("CSV", "JSON"):
            elapsed = run_report(engine, runner, fmt)
            size = sum(p.stat().st_size for p in (Path(tmp) / "exports").rglob(f"*.{fmt.lower()}"))
            print(f"{fmt} report: {elapsed:.2f} s ({total / elapsed:,.0f} findings/s, "
                  f"{size / 1e6:.1f} MB); ratio to peer {elapsed / peer:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
