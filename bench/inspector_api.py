"""Inspector2 API over many stored findings (seeded directly through the DB layer).

    .venv/bin/python bench/inspector_api.py [--repos 100] [--images 100] [--per-image 100]

Default: 100 repositories x 100 images x 100 findings = 1,000,000 findings, 10,000 images.
Timed in process on the code the routes run (SQL + rendering, no HTTP):
- ListFindings, repository + severity filter, one page of 50 (target p99 <= 100 ms);
  peer: DescribeImageScanFindings' page query for one image (engine.findings_view).
- ListFindingAggregations REPOSITORY (target p99 <= 200 ms);
  peer: `/api/findings?groupBy=repository` (engine.aggregate).
- A SUPPRESS rule hiding one vulnerability in every image (CreateFilter, then DeleteFilter:
  each moves one finding per image, with its event and recount), and ListFindings again
  with the rule in force, plus a page of findingStatus=SUPPRESSED; peer for the rule change:
  the same `/api/findings` aggregation, one pass over every finding.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "src"))

import sqlalchemy as sa  # noqa: E402

from tidegate import schema as t  # noqa: E402
from tidegate.db import create_engine, migrate, reading  # noqa: E402
from tidegate.engine import aggregate, findings_view, suppression  # noqa: E402
from tidegate.engine.finding_shapes import ImageContext, render_static_part  # noqa: E402
from tidegate.engine.findings import details_id  # noqa: E402
from tidegate.events.model import Origin  # noqa: E402
from tidegate.inspector import aggregations, findings  # noqa: E402

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW")


def seed(engine: sa.Engine, repos: int, images: int, per_image: int) -> None:
    now = time.time()
    details = json.dumps({
        "description": "A realistic description of a vulnerability " * 5,
        "references": [f"https://example.org/advisory/{i}" for i in range(5)],
        "cvss": [{"type": "CVSS_V3", "score": 7.5,
                  "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}],
    })  # fmt: skip
    texts: dict[str, dict[str, str]] = {}
    stored: dict[str, object] = {}
    with engine.begin() as conn:
        conn.execute(sa.insert(t.repositories),
                     [{"id": r + 1, "name": f"team/app{r:03d}", "created_at": now}
                      for r in range(repos)])  # fmt: skip
        manifest_id = 0
        for r in range(repos):
            manifests, tags, rows = [], [], []
            for i in range(images):
                manifest_id += 1
                digest = f"sha256:{manifest_id:064x}"
                manifests.append({"id": manifest_id, "repository_id": r + 1, "digest": digest,
                                  "media_type": "application/vnd.oci.image.manifest.v1+json",
                                  "size": 1000, "image_size": 1, "pushed_at": now - i})  # fmt: skip
                tags.append({"repository_id": r + 1, "name": f"v{i}", "manifest_id": manifest_id,
                             "updated_at": now})  # fmt: skip
                for k in range(per_image):
                    row = {
                        "repository_id": r + 1, "digest": digest, "scan_type": "ENHANCED",
                        "finding_key": f"{manifest_id:016x}{k:016x}",
                        "vuln_id": f"CVE-2024-{k:05d}", "package_name": f"pkg{k % 50}",
                        "package_version": "1.2.3-1", "package_manager": "OS",
                        "namespace": "debian:12", "match_name": f"pkg{k % 50}",
                        "file_path": "", "layer": "sha256:" + "a" * 64,
                        "severity": SEVERITIES[k % 4], "score": 7.5, "fixed_in": "1.2.4-1",
                        "fix_available": "YES", "exploit_available": "NO", "status": "ACTIVE",
                        "first_observed_at": now, "last_observed_at": now, "updated_at": now,
                    }  # fmt: skip
                    key = (row["vuln_id"], row["package_name"], row["severity"])
                    shape_key = "|".join(str(x) for x in key)
                    if shape_key not in texts:
                        shape = render_static_part({**row, "details": details})
                        texts[shape_key] = {"id": details_id(details, shape),
                                            "details": details, "shape": shape}  # fmt: skip
                    row["details_id"] = texts[shape_key]["id"]
                    rows.append(row)
            fresh = {v["id"]: v for v in texts.values() if v["id"] not in stored}
            if fresh:
                conn.execute(sa.insert(t.finding_details), list(fresh.values()))
                stored.update(fresh)
            conn.execute(sa.insert(t.manifests), manifests)
            conn.execute(sa.insert(t.tags), tags)
            counts = json.dumps(dict.fromkeys(SEVERITIES, per_image // 4))
            conn.execute(sa.insert(t.image_scans), [
                {"repository_id": r + 1, "digest": m["digest"], "scan_type": "ENHANCED",
                 "status": "ACTIVE", "requested_at": now, "completed_at": now,
                 "severity_counts": counts}
                for m in manifests
            ])  # fmt: skip
            conn.execute(sa.insert(t.findings), rows)


def timed(call: Callable[[], object], runs: int) -> tuple[float, float]:
    for _ in range(3):
        call()
    latencies = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    return statistics.median(latencies), latencies[max(0, int(len(latencies) * 0.99) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repos", type=int, default=100)
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--per-image", type=int, default=100)
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'meta.db'}")
        migrate(engine)
        started = time.perf_counter()
        seed(engine, args.repos, args.images, args.per_image)
        total = args.repos * args.images * args.per_image
        print(f"seeded {total:,} findings in {args.repos * args.images:,} images "
              f"({time.perf_counter() - started:.0f} s)")  # fmt: skip
        origin = Origin("123456789012", "us-east-1")
        pick = min(42, args.repos - 1)
        criteria = {
            "ecrImageRepositoryName": [{"comparison": "EQUALS", "value": f"team/app{pick:03d}"}],
            "severity": [{"comparison": "EQUALS", "value": "HIGH"}],
        }
        image = ImageContext(
            f"team/app{pick:03d}", f"sha256:{pick * args.images + 1:064x}", ["v0"], 0.0
        )
        with reading(engine) as conn:
            page = findings.list_findings(conn, origin, criteria, None, offset=0, limit=50)
            assert len(page.findings) == 50
            assert page.more
            list_p50, list_p99 = timed(
                lambda: findings.list_findings(conn, origin, criteria, None, offset=0, limit=50),
                args.runs,
            )
            peer_p50, peer_p99 = timed(
                lambda: findings_view.image_findings(
                    conn, pick + 1, "ENHANCED", origin, image, offset=0, limit=50
                ),
                args.runs,
            )
            agg = aggregations.aggregate(conn, origin, "REPOSITORY", {}, offset=0, limit=50)
            assert len(agg.responses) == min(50, args.repos)
            agg_runs = max(5, args.runs // 10)
            agg_p50, agg_p99 = timed(
                lambda: aggregations.aggregate(conn, origin, "REPOSITORY", {}, offset=0, limit=50),
                agg_runs,
            )
            api_p50, api_p99 = timed(
                lambda: aggregate.aggregate(
                    conn, aggregate.GroupBy.REPOSITORY, aggregate.FindingFilter()
                ),
                3,
            )
        rule = {"vulnerabilityId": [{"comparison": "EQUALS", "value": "CVE-2024-00007"}]}
        started = time.perf_counter()
        arn = suppression.create(engine, origin, "bench", "SUPPRESS",
                                 suppression.FilterSpec(criteria=rule), author=None,
                                 now=time.time())  # fmt: skip
        create_ms = (time.perf_counter() - started) * 1000
        hidden = {"findingStatus": [{"comparison": "EQUALS", "value": "SUPPRESSED"}]}
        with reading(engine) as conn:
            ruled_p50, ruled_p99 = timed(
                lambda: findings.list_findings(conn, origin, criteria, None, offset=0, limit=50),
                args.runs,
            )
            page = findings.list_findings(conn, origin, hidden, None, offset=0, limit=50)
            assert len(page.findings) == min(50, args.repos * args.images)
            sup_p50, sup_p99 = timed(
                lambda: findings.list_findings(conn, origin, hidden, None, offset=0, limit=50),
                args.runs,
            )
        started = time.perf_counter()
        suppression.delete(engine, origin, arn, time.time())
        delete_ms = (time.perf_counter() - started) * 1000
        engine.dispose()
    images = args.repos * args.images
    print(f"CreateFilter SUPPRESS moving {images:,} findings: {create_ms:.0f} ms; DeleteFilter "
          f"{delete_ms:.0f} ms; peer one aggregation pass p50 {api_p50:.0f} ms; ratio "
          f"{max(create_ms, delete_ms) / api_p50:.2f}x")  # fmt: skip
    print(f"ListFindings repo+severity with the rule: p50 {ruled_p50:.1f} ms, p99 "
          f"{ruled_p99:.1f} ms; findingStatus=SUPPRESSED page: p50 {sup_p50:.1f} ms, p99 "
          f"{sup_p99:.1f} ms (target <= 100 ms)")  # fmt: skip
    print(f"ListFindings repo+severity, page 50: p50 {list_p50:.1f} ms, p99 {list_p99:.1f} ms "
          f"(target <= 100 ms)")  # fmt: skip
    print(f"  peer DescribeImageScanFindings page: p50 {peer_p50:.1f} ms, p99 {peer_p99:.1f} ms; "
          f"ratio {list_p99 / peer_p99:.2f}x")  # fmt: skip
    print(f"ListFindingAggregations REPOSITORY: p50 {agg_p50:.1f} ms, p99 {agg_p99:.1f} ms "
          f"(target <= 200 ms)")  # fmt: skip
    print(f"  peer /api/findings groupBy=repository: p50 {api_p50:.1f} ms, p99 {api_p99:.1f} ms; "
          f"ratio {agg_p99 / api_p99:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
