"""The daily open-findings snapshot: one row per severity per UTC day, rewritten while the
day lasts, read back oldest first (the console's chart)."""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tidegate import schema as t
from tidegate.engine import overview

DAY = 86400.0
START = 1_765_000_000.0  # 2025-12-06 05:46 UTC


def scan(engine: Engine, counts: dict[str, int], status: str = "ACTIVE") -> None:
    with engine.begin() as conn:
        repo_id = conn.execute(sa.select(t.repositories.c.id)).scalar()
        if repo_id is None:
            repo_id = conn.execute(
                sa.insert(t.repositories).values(name="app", created_at=START)
            ).inserted_primary_key[0]  # type: ignore[index]
        conn.execute(sa.delete(t.image_scans))
        conn.execute(sa.insert(t.image_scans).values(
            repository_id=repo_id, digest="sha256:" + "a" * 64, scan_type="ENHANCED",
            status=status, description="", requested_at=START, completed_at=START,
            severity_counts=json.dumps(counts)))  # fmt: skip


def test_snapshots_per_day_rewritten_within_the_day(engine: Engine) -> None:
    scan(engine, {"CRITICAL": 2, "LOW": 1})
    overview.snapshot_now(engine, START)
    scan(engine, {"CRITICAL": 1})
    overview.snapshot_now(engine, START + 60)  # same day: replaces the first
    scan(engine, {"HIGH": 4})
    overview.snapshot_now(engine, START + DAY)
    scan(engine, {"HIGH": 9}, status="FAILED")  # a failed scan's counts are not open findings
    overview.snapshot_now(engine, START + 2 * DAY)
    with engine.connect() as conn:
        history = overview.snapshot_history(conn, days=30)
        recent = overview.snapshot_history(conn, days=2)
    days = list(history)
    assert days == ["2025-12-06", "2025-12-07", "2025-12-08"]
    assert history["2025-12-06"]["CRITICAL"] == 1
    assert history["2025-12-06"]["LOW"] == 0
    assert history["2025-12-07"]["HIGH"] == 4
    assert set(history["2025-12-08"].values()) == {0}
    assert list(recent) == days[1:]
