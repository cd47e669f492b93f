"""The JSON-lines log holds each event exactly once, across crashes at any point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.unit.events.helpers import Clock, emit_pushes, make_config
from tidegate.events.dispatcher import Dispatcher
from tidegate.events.eventlog import EventLog
from tidegate.events.model import Origin
from tidegate.events.outbox import unpack
from tidegate.schema import events_outbox


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def body(event_id: str) -> str:
    return json.dumps({"id": event_id, "detail": {"pad": "x" * 50}})


def test_append_writes_one_line_per_event_and_skips_ids_in_the_tail(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events" / "events.jsonl", tail_lines=3)
    assert log.append([("a", body("a")), ("b", body("b"))]) == 2
    assert log.append([("b", body("b")), ("c", body("c"))]) == 1
    assert [e["id"] for e in lines(log.path)] == ["a", "b", "c"]


def test_a_torn_last_line_is_cut_before_appending(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events.jsonl", tail_lines=5)
    log.append([("a", body("a"))])
    with log.path.open("ab") as fh:
        fh.write(body("b").encode()[:20])  # the process died mid-write
    log.append([("b", body("b"))])
    assert [e["id"] for e in lines(log.path)] == ["a", "b"]


def test_lines_another_writer_added_between_appends_are_deduped(tmp_path: Path) -> None:
    # The log keeps the tail it wrote in memory; a file that changed behind it is re-read.
    log = EventLog(tmp_path / "events.jsonl", tail_lines=5)
    log.append([("a", body("a"))])
    with log.path.open("ab") as fh:
        fh.write(body("b").encode() + b"\n")
    assert log.append([("b", body("b")), ("c", body("c"))]) == 1
    assert log.append([("a", body("a")), ("c", body("c"))]) == 0
    assert [e["id"] for e in lines(log.path)] == ["a", "b", "c"]


def test_a_file_that_is_only_a_torn_line_is_emptied(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events.jsonl", tail_lines=5)
    log.path.write_bytes(b'{"id": "a", "det')
    log.append([("a", body("a"))])
    assert [e["id"] for e in lines(log.path)] == ["a"]


def test_a_batch_larger_than_the_dedupe_window_is_refused(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events.jsonl", tail_lines=1)
    with pytest.raises(ValueError, match="dedupe window"):
        log.append([("a", body("a")), ("b", body("b"))])


def test_tail_reading_crosses_block_boundaries(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events.jsonl", tail_lines=4)
    big = [(f"e{n}", json.dumps({"id": f"e{n}", "pad": "y" * 40_000})) for n in range(4)]
    log.append(big)
    assert log.append(big) == 0
    assert len(lines(log.path)) == 4


def test_crash_between_append_and_mark_logs_each_event_once(
    tmp_path: Path, engine: Engine, origin: Origin, clock: Clock
) -> None:
    ids = emit_pushes(engine, origin, 5)
    config = make_config(tmp_path, batch_size=3)
    with engine.connect() as conn:
        first = conn.execute(
            sa.select(events_outbox.c.event_id, events_outbox.c.body_zstd).order_by(
                events_outbox.c.id
            )
        ).all()[:3]
    # The previous process appended the first batch, then died before marking it logged.
    EventLog(config.log_path, tail_lines=3).append(
        [(r.event_id, unpack(r.body_zstd)) for r in first]
    )
    dispatcher = Dispatcher(engine, config, clock=clock)
    try:
        report = dispatcher.run_once()
    finally:
        dispatcher.close()
    assert report.logged == 2
    assert [e["id"] for e in lines(config.log_path)] == ids
    with engine.connect() as conn:
        unlogged = conn.execute(
            sa.select(sa.func.count()).where(events_outbox.c.logged_at.is_(None))
        ).scalar()
    assert unlogged == 0
    again = Dispatcher(engine, config, clock=clock)
    try:
        assert again.run_once().logged == 0
    finally:
        again.close()
    assert len(lines(config.log_path)) == 5
