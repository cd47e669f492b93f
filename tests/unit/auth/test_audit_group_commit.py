"""Audit rows by group commit: every event lands, concurrent ones share transactions."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import event as sa_event

from tests.unit.auth.test_audit_retention import event
from tidegate.auth.audit import AuditTrail
from tidegate.db import create_engine, migrate


def test_a_lone_event_is_committed_when_record_returns(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'meta.db'}")
    migrate(engine)
    AuditTrail(engine, gather_seconds=0.01).record(event(1.0, "ecr:Alone"))
    assert [e.action for e in AuditTrail(engine).query()] == ["ecr:Alone"]


def test_concurrent_events_all_land_in_fewer_transactions(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'meta.db'}")
    migrate(engine)
    commits: list[int] = []
    sa_event.listen(engine, "commit", lambda conn: commits.append(1))
    trail = AuditTrail(engine, gather_seconds=0.2)
    start = threading.Barrier(24)

    def one(n: int) -> None:
        start.wait()
        trail.record(event(float(n), f"ecr:Call{n}"))

    threads = [threading.Thread(target=one, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # The group's first caller returns only after its commit, so by now all are written.
    with engine.connect() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM audit_events")).scalar()
    assert count == 24
    assert 1 <= len(commits) < 24


def test_a_failed_write_does_not_stop_later_groups(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'meta.db'}")
    trail = AuditTrail(engine, gather_seconds=0.0)
    with pytest.raises(sa.exc.OperationalError):  # no table yet: this group's write fails
        trail.record(event(1.0, "ecr:BeforeTheSchema"))
    migrate(engine)
    trail.record(event(2.0, "ecr:After"))
    assert [e.action for e in trail.query()] == ["ecr:After"]
