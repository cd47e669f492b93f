"""Audit retention over a real migrated SQLite database."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from tidegate import schema as t
from tidegate.auth.audit import DAY, AuditEvent, AuditTrail, purge
from tidegate.db import migrate


def event(at: float, action: str) -> AuditEvent:
    return AuditEvent(
        at=at, principal="arn:aws:iam::000000000000:user/admin", access_key_id="AKIA1",
        action=action, resource=None, result="allowed", error=None, source_ip="127.0.0.1",
        interface="ecr",
    )  # fmt: skip


def test_purge_drops_only_events_past_retention(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'meta.db'}")
    migrate(engine)
    trail = AuditTrail(engine)
    now = 1_000 * DAY
    trail.record(event(now - 91 * DAY, "ecr:Old"))
    trail.record(event(now - 89 * DAY, "ecr:Recent"))
    assert purge(engine, now, 0) == 0  # 0 keeps everything
    assert purge(engine, now, 90) == 1
    assert [e.action for e in trail.query()] == ["ecr:Recent"]
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.audit_events)).scalar() == 1
