"""`tidegate events list|deliveries|redeliver`: look into the outbox and the delivery log."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from tidegate.cli.common import add_data_options, settings_from_args
from tidegate.db import engine_for, migrate, reading
from tidegate.errors import NotFound
from tidegate.events import deliveries, outbox
from tidegate.events.config import load_events_config
from tidegate.events.deliveries import Delivery, DeliveryState
from tidegate.events.model import DETAIL_TYPES


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `events` and its three actions."""
    parser = subparsers.add_parser(
        "events",
        help="list events and webhook deliveries, redeliver",
        description="Every push, delete and completed scan is an EventBridge-shaped event, "
        "appended to <data-dir>/events/events.jsonl and POSTed to the configured webhooks.",
    )
    actions = parser.add_subparsers(dest="events_action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="newest events first, one JSON envelope per line")
    add_data_options(listing)
    listing.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    listing.add_argument("--detail-type", choices=DETAIL_TYPES, help="only this detail-type")
    listing.set_defaults(func=run_list)
    log = actions.add_parser("deliveries", help="the webhook delivery log, newest first")
    add_data_options(log)
    log.add_argument("--state", choices=[s.value for s in DeliveryState])
    log.add_argument("--event", help="only deliveries of this event id")
    log.add_argument("--limit", type=int, default=100)
    log.add_argument("--json", action="store_true", help="one JSON object per line")
    log.set_defaults(func=run_deliveries)
    again = actions.add_parser(
        "redeliver",
        help="send an event to every configured webhook again",
        description="Restarts the event's deliveries (attempts from zero) and adds rows for "
        "endpoints configured since; the running server sends them within its poll interval.",
    )
    add_data_options(again)
    again.add_argument("event_id")
    again.set_defaults(func=run_redeliver)


def _engine(args: argparse.Namespace) -> Engine:
    engine = engine_for(settings_from_args(args))
    migrate(engine)
    return engine


def _stamp(value: float | None) -> str:
    if value is None:
        return "-"
    return datetime.fromtimestamp(value, UTC).isoformat(timespec="seconds")


def run_list(args: argparse.Namespace) -> int:
    """Print stored envelopes exactly as logged and sent."""
    with reading(_engine(args)) as conn:
        for event in outbox.list_events(conn, limit=args.limit, detail_type=args.detail_type):
            print(event.body)
    return 0


def _as_dict(row: Delivery) -> dict[str, object]:
    return {
        "event_id": row.event_id,
        "endpoint": row.endpoint,
        "state": row.state.value,
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at,
        "last_status": row.last_status,
        "last_error": row.last_error,
        "delivered_at": row.delivered_at,
    }


def run_deliveries(args: argparse.Namespace) -> int:
    """Print delivery rows: state, attempts, last outcome."""
    state = DeliveryState(args.state) if args.state else None
    with reading(_engine(args)) as conn:
        rows = deliveries.list_deliveries(conn, state=state, event_id=args.event, limit=args.limit)
    for row in rows:
        if args.json:
            print(json.dumps(_as_dict(row), sort_keys=True))
            continue
        when = (
            f"delivered {_stamp(row.delivered_at)}"
            if row.state is DeliveryState.DELIVERED
            else f"next {_stamp(row.next_attempt_at)}"
        )
        outcome = row.last_error or (str(row.last_status) if row.last_status else "")
        print(
            f"{row.event_id}  {row.state.value:9}  attempts {row.attempts}  {when}  "
            f"{row.endpoint}  {outcome}".rstrip()
        )
    return 0


def run_redeliver(args: argparse.Namespace) -> int:
    """Queue the event again for every configured endpoint; NotFound (exit 2) if unknown."""
    settings = settings_from_args(args)
    config = load_events_config(settings)
    engine = _engine(args)
    with engine.begin() as conn:
        event = outbox.find_event(conn, args.event_id)
        if event is None:
            msg = f"no event with id {args.event_id!r}"
            raise NotFound(msg)
        urls = [hook.url for hook in config.webhooks if hook.wants(event.detail_type)]
        count = deliveries.redeliver(conn, event.event_id, urls, datetime.now(UTC).timestamp())
    print(f"queued {count} deliveries of {event.event_id}")
    return 0
