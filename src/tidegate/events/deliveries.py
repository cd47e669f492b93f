"""The webhook delivery log: one row per (event, endpoint), and its state machine.

    pending ──2xx──► delivered
       │  └─error──► pending (attempts+1, next_attempt_at = now + backoff)
       └─error, attempts ≥ max or event older than max age──► failed (kept; redeliver)

A sender claims a due row by moving `next_attempt_at` past a lease with a conditional
UPDATE, so two dispatchers never send the same row at once and a sender that dies
mid-request is retried when the lease runs out.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tidegate.events.outbox import unpack
from tidegate.schema import events_outbox, webhook_deliveries

_MAX_ERROR = 2000


class DeliveryState(enum.StrEnum):
    """Where a delivery stands."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Delivery:
    """A row of the delivery log."""

    id: int
    event_id: str
    endpoint: str
    state: DeliveryState
    attempts: int
    next_attempt_at: float
    last_status: int | None
    last_error: str | None
    delivered_at: float | None


@dataclass(frozen=True, slots=True)
class DueDelivery:
    """A delivery that is due, with what sending it needs."""

    delivery: Delivery
    detail_type: str
    body: str
    event_created_at: float


def _delivery(m: sa.RowMapping) -> Delivery:
    return Delivery(
        id=m["id"],
        event_id=m["event_id"],
        endpoint=m["endpoint"],
        state=DeliveryState(m["state"]),
        attempts=m["attempts"],
        next_attempt_at=m["next_attempt_at"],
        last_status=m["last_status"],
        last_error=m["last_error"],
        delivered_at=m["delivered_at"],
    )


def ensure_deliveries(conn: Connection, pairs: Iterable[tuple[str, str]], now: float) -> int:
    """Create a pending row for each (event_id, endpoint) that has none; returns how many."""
    wanted = list(dict.fromkeys(pairs))  # keeps the caller's (event) order for row ids
    if not wanted:
        return 0
    existing = {
        (row.event_id, row.endpoint)
        for row in conn.execute(
            sa.select(webhook_deliveries.c.event_id, webhook_deliveries.c.endpoint).where(
                webhook_deliveries.c.event_id.in_({event_id for event_id, _ in wanted})
            )
        )
    }
    rows = [
        {
            "event_id": event_id,
            "endpoint": endpoint,
            "state": DeliveryState.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
        }
        for event_id, endpoint in wanted
        if (event_id, endpoint) not in existing
    ]
    if rows:
        conn.execute(webhook_deliveries.insert(), rows)
    return len(rows)


def due(conn: Connection, endpoints: Sequence[str], now: float, limit: int) -> list[DueDelivery]:
    """Pending deliveries to configured endpoints whose time has come, oldest event first."""
    if not endpoints:
        return []
    d, e = webhook_deliveries, events_outbox
    query = (
        sa.select(d, e.c.detail_type, e.c.body_zstd, e.c.created_at.label("event_created_at"))
        .join(e, e.c.event_id == d.c.event_id)
        .where(
            d.c.state == DeliveryState.PENDING.value,
            d.c.next_attempt_at <= now,
            d.c.endpoint.in_(endpoints),
        )
        .order_by(e.c.id, d.c.id)
        .limit(limit)
    )
    return [
        DueDelivery(
            _delivery(row._mapping), row.detail_type, unpack(row.body_zstd), row.event_created_at
        )
        for row in conn.execute(query)
    ]


def claim(conn: Connection, delivery: Delivery, lease_until: float) -> bool:
    """Take `delivery` for sending; False when another sender took it first."""
    result = conn.execute(
        webhook_deliveries.update()
        .where(
            webhook_deliveries.c.id == delivery.id,
            webhook_deliveries.c.state == DeliveryState.PENDING.value,
            webhook_deliveries.c.next_attempt_at == delivery.next_attempt_at,
        )
        .values(next_attempt_at=lease_until)
    )
    return result.rowcount == 1


def record_delivered(conn: Connection, delivery: Delivery, status: int, now: float) -> None:
    """The endpoint answered 2xx."""
    conn.execute(
        webhook_deliveries.update()
        .where(webhook_deliveries.c.id == delivery.id)
        .values(
            state=DeliveryState.DELIVERED.value,
            attempts=delivery.attempts + 1,
            last_status=status,
            last_error=None,
            delivered_at=now,
        )
    )


def record_failure(
    conn: Connection,
    delivery: Delivery,
    *,
    status: int | None,
    error: str,
    retry_at: float | None,
) -> None:
    """An attempt failed: retry at `retry_at`, or give up (`failed`) when it is None."""
    values: dict[str, object] = {
        "attempts": delivery.attempts + 1,
        "last_status": status,
        "last_error": error[:_MAX_ERROR],
    }
    if retry_at is None:
        values["state"] = DeliveryState.FAILED.value
    else:
        values["next_attempt_at"] = retry_at
    conn.execute(
        webhook_deliveries.update().where(webhook_deliveries.c.id == delivery.id).values(values)
    )


def redeliver(conn: Connection, event_id: str, endpoints: Iterable[str], now: float) -> int:
    """Send `event_id` again to every endpoint: existing rows restart, missing ones are added.

    Attempts restart at zero so the full retry budget applies again; returns the row count.
    """
    ensure_deliveries(conn, ((event_id, url) for url in endpoints), now)
    result = conn.execute(
        webhook_deliveries.update()
        .where(webhook_deliveries.c.event_id == event_id)
        .values(
            state=DeliveryState.PENDING.value,
            attempts=0,
            next_attempt_at=now,
            delivered_at=None,
        )
    )
    return int(result.rowcount)


def list_deliveries(
    conn: Connection,
    *,
    state: DeliveryState | None = None,
    event_id: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[Delivery]:
    """Delivery rows, newest first (older than row `before_id`), optionally filtered."""
    query = sa.select(webhook_deliveries).order_by(webhook_deliveries.c.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(webhook_deliveries.c.id < before_id)
    if state is not None:
        query = query.where(webhook_deliveries.c.state == state.value)
    if event_id is not None:
        query = query.where(webhook_deliveries.c.event_id == event_id)
    return [_delivery(row._mapping) for row in conn.execute(query)]


def next_due(conn: Connection, endpoints: Sequence[str]) -> float | None:
    """When the earliest pending delivery to a configured endpoint becomes due."""
    if not endpoints:
        return None
    value = conn.execute(
        sa.select(sa.func.min(webhook_deliveries.c.next_attempt_at)).where(
            webhook_deliveries.c.state == DeliveryState.PENDING.value,
            webhook_deliveries.c.endpoint.in_(endpoints),
        )
    ).scalar()
    return None if value is None else float(value)
