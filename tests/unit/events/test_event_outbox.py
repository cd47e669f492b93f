"""The outbox row exists exactly when the caller's transaction commits."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.unit.events.helpers import DIGEST, emit_pushes
from tidegate.events import outbox
from tidegate.events.model import Event, Origin, image_action, image_scan
from tidegate.events.outbox import emit, notify_on_commit
from tidegate.schema import events_outbox


class Boom(Exception):
    pass


def emit_then_fail(engine: Engine, event: Event) -> None:
    with engine.begin() as conn:
        emit(conn, event)
        raise Boom


def test_emit_commits_with_the_transaction(engine: Engine, origin: Origin) -> None:
    event = image_action(
        origin, action="PUSH", repository_name="app", image_digest=DIGEST, image_tag="v1"
    )
    with engine.begin() as conn:
        emit(conn, event)
    with engine.connect() as conn:
        [stored] = outbox.list_events(conn)
    assert stored.event_id == event.id
    assert stored.detail_type == "ECR Image Action"
    assert stored.body == event.body()
    assert json.loads(stored.body)["detail"]["image-tag"] == "v1"
    assert stored.created_at == event.at
    assert stored.logged_at is None


def test_emit_rolls_back_with_the_transaction(engine: Engine, origin: Origin) -> None:
    event = image_action(
        origin, action="PUSH", repository_name="app", image_digest=DIGEST, image_tag=None
    )
    with pytest.raises(Boom):
        emit_then_fail(engine, event)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(events_outbox)).scalar() == 0


def test_commit_listener_fires_only_for_transactions_that_emitted(
    engine: Engine, origin: Origin
) -> None:
    calls: list[int] = []
    undo = notify_on_commit(engine, lambda: calls.append(1))
    try:
        emit_pushes(engine, origin, 2)
        assert len(calls) == 2
        with engine.begin() as conn:
            conn.execute(sa.text("SELECT 1"))
        assert len(calls) == 2
        event = image_action(
            origin, action="PUSH", repository_name="a", image_digest=DIGEST, image_tag=None
        )
        with pytest.raises(Boom):
            emit_then_fail(engine, event)
        with engine.begin() as conn:  # the rolled-back emit must not leak into this commit
            conn.execute(sa.text("SELECT 1"))
        assert len(calls) == 2
    finally:
        undo()
    emit_pushes(engine, origin, 1)
    assert len(calls) == 2


def test_list_events_newest_first_and_by_detail_type(engine: Engine, origin: Origin) -> None:
    ids = emit_pushes(engine, origin, 3)
    scan = image_scan(
        origin, repository_name="app", image_digest=DIGEST, image_tags=[], severity_counts={}
    )
    with engine.begin() as conn:
        emit(conn, scan)
    with engine.connect() as conn:
        assert [e.event_id for e in outbox.list_events(conn, limit=2)] == [scan.id, ids[2]]
        pushes = outbox.list_events(conn, detail_type="ECR Image Action")
        assert [e.event_id for e in pushes] == ids[::-1]
        found = outbox.find_event(conn, ids[0])
        assert found is not None
        assert found.event_id == ids[0]
        assert outbox.find_event(conn, "nope") is None
