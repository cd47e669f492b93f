"""The transactional outbox: events are rows written in the same transaction as the change.

An event exists exactly when the push, delete or scan result that caused it committed;
the dispatcher later copies it to the event log and the webhooks. Committing a
transaction that emitted events calls the listeners registered with `notify_on_commit`,
so delivery starts at once instead of at the next poll.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
import zstandard
from sqlalchemy.engine import Connection, Engine

from tidegate import db
from tidegate.db import bulk_insert
from tidegate.events.model import Event
from tidegate.schema import events_outbox

# Set on a connection that emitted events in its current transaction.
_PENDING = "tidegate_events_pending"


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An outbox row: the envelope JSON exactly as it is logged and sent."""

    id: int
    event_id: str
    detail_type: str
    body: str
    created_at: float
    logged_at: float | None


def emit(conn: Connection, event: Event) -> None:
    """Add `event` to the outbox inside the caller's transaction (it commits or rolls back)."""
    emit_many(conn, [event])


def pack(bodies: Iterable[str]) -> list[bytes]:
    """Event bodies as stored: zstd level 1 (a compressor per call: they are not thread-safe).

    Level 1 keeps most of the size win (JSON compresses well even fast) at half the CPU.
    """
    compressor = zstandard.ZstdCompressor(level=1)
    return [compressor.compress(body.encode()) for body in bodies]


def unpack(stored: bytes) -> str:
    """The body JSON exactly as it was emitted."""
    return zstandard.ZstdDecompressor().decompress(stored).decode()


def emit_many(conn: Connection, events: Sequence[Event]) -> None:
    """Add many events in one statement (a re-scan may change thousands of findings)."""
    if not events:
        return
    bodies = pack(event.body() for event in events)
    bulk_insert(
        conn,
        events_outbox,
        [
            {
                "event_id": event.id,
                "detail_type": event.detail_type,
                "body_zstd": body,
                "created_at": event.at,
                "logged_at": None,
            }
            for event, body in zip(events, bodies, strict=True)
        ],
    )
    db.flag_for_commit(conn, _PENDING)


def notify_on_commit(engine: Engine, callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback` when a transaction that emitted events commits; returns an undo.
    The dispatcher reads under BEGIN IMMEDIATE, so on SQLite it sees the committed rows."""
    return db.notify_on_commit(engine, _PENDING, callback)


def _stored(row: sa.Row[tuple[object, ...]]) -> StoredEvent:
    m = row._mapping
    return StoredEvent(
        id=m["id"],
        event_id=m["event_id"],
        detail_type=m["detail_type"],
        body=unpack(m["body_zstd"]),
        created_at=m["created_at"],
        logged_at=m["logged_at"],
    )


def unlogged(conn: Connection, limit: int) -> list[StoredEvent]:
    """The oldest events not yet in the event log."""
    query = (
        sa.select(events_outbox)
        .where(events_outbox.c.logged_at.is_(None))
        .order_by(events_outbox.c.id)
        .limit(limit)
    )
    return [_stored(row) for row in conn.execute(query)]


def mark_logged(conn: Connection, ids: list[int], now: float) -> None:
    """Record that these events are durably in the event log."""
    conn.execute(
        events_outbox.update()
        .where(events_outbox.c.id.in_(ids), events_outbox.c.logged_at.is_(None))
        .values(logged_at=now)
    )


def list_events(
    conn: Connection,
    *,
    limit: int = 50,
    detail_type: str | None = None,
    before_id: int | None = None,
) -> list[StoredEvent]:
    """The newest events first (older than row `before_id`), optionally of one detail-type."""
    query = sa.select(events_outbox).order_by(events_outbox.c.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(events_outbox.c.id < before_id)
    if detail_type is not None:
        query = query.where(events_outbox.c.detail_type == detail_type)
    return [_stored(row) for row in conn.execute(query)]


def find_event(conn: Connection, event_id: str) -> StoredEvent | None:
    """The outbox row of one event id, if it exists."""
    row = conn.execute(sa.select(events_outbox).where(events_outbox.c.event_id == event_id)).first()
    return None if row is None else _stored(row)
