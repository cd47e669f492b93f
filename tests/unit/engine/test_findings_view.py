"""DescribeImageScanFindings pages: stored shapes and rows migrated without one read alike."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import sqlalchemy as sa

from tidegate import schema as t
from tidegate.db import create_engine, migrate, reading
from tidegate.engine.finding_shapes import ImageContext, enhanced_finding, render_static_part
from tidegate.engine.findings import details_id
from tidegate.engine.findings_view import image_findings
from tidegate.events.model import Origin

ORIGIN = Origin("123456789012", "eu-west-1")
DIGEST = "sha256:" + "d" * 64
IMAGE = ImageContext("team/app", DIGEST, ["v1"], 1700000000.0)


def _row(i: int, severity: str) -> dict[str, object]:
    return {
        "repository_id": 1, "digest": DIGEST, "scan_type": "ENHANCED",
        "finding_key": f"{i:032x}", "vuln_id": f"CVE-2024-{i:04d}", "package_name": f"p{i}",
        "package_version": "1:2.0-1", "package_manager": "OS", "namespace": "Debian:12",
        "match_name": f"p{i}", "file_path": "var/lib/dpkg/status", "layer": "sha256:" + "a" * 64,
        "severity": severity, "score": 5.0, "fixed_in": "", "fix_available": "NO",
        "exploit_available": "NO", "status": "ACTIVE", "first_observed_at": 1.0,
        "last_observed_at": 2.0, "updated_at": 3.0,
    }  # fmt: skip


def test_pages_are_worst_first_and_equal_the_enhanced_findings(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'meta.db'}")
    migrate(engine)
    rows = [_row(i, s) for i, s in enumerate(["LOW", "CRITICAL", "MEDIUM", "HIGH", "LOW"])]
    details = json.dumps({"description": "d", "cvss": []})
    with engine.begin() as conn:
        conn.execute(sa.insert(t.repositories).values(id=1, name="team/app", created_at=0))
        texts: dict[str, str | None] = {}
        for i, row in enumerate(rows):
            # Odd rows as migrated from before shapes existed: details only (one shared row).
            shape = render_static_part({**row, "details": details}) if i % 2 == 0 else None
            row["details_id"] = details_id(details, shape)
            texts[str(row["details_id"])] = shape
        conn.execute(
            sa.insert(t.finding_details),
            [{"id": k, "details": details, "shape": v} for k, v in texts.items()],
        )
        conn.execute(sa.insert(t.findings), rows)
    with reading(engine) as conn:
        first = image_findings(conn, 1, "ENHANCED", ORIGIN, IMAGE, offset=0, limit=3)
        rest = image_findings(conn, 1, "ENHANCED", ORIGIN, IMAGE, offset=3, limit=3)
    assert first.more
    assert not rest.more
    got = [orjson.loads(orjson.dumps(f)) for f in [*first.enhanced, *rest.enhanced]]
    assert [g["severity"] for g in got] == ["CRITICAL", "HIGH", "MEDIUM", "LOW", "LOW"]
    by_id = {r["vuln_id"]: r for r in rows}
    for finding in got:
        row = by_id[finding["packageVulnerabilityDetails"]["vulnerabilityId"]]
        assert finding == enhanced_finding({**row, "details": details}, ORIGIN, IMAGE)
    engine.dispose()
