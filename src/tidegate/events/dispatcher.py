"""Drain the outbox: into the JSON-lines event log, then to every subscribed webhook.

Each pass (`run_once`):
1. log: append unlogged events to the event log (fsync), then in one transaction mark
   them logged and create a pending delivery row per subscribed endpoint;
2. send: for each due delivery, claim it (lease), POST it, record the outcome with
   exponential backoff and jitter, or `failed` past the attempt/age budget.

An endpoint that fails is skipped for the rest of the pass, so one dead receiver costs at
most one timeout per pass and its deliveries keep their order. `run` repeats passes until
stopped, sleeping until the next due retry, the poll interval, or a `nudge` (then a short
settle, so a burst of commits makes one pass).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from tidegate import singletons
from tidegate.db import reading
from tidegate.events import deliveries, outbox
from tidegate.events.config import EventsConfig
from tidegate.events.deliveries import DueDelivery
from tidegate.events.eventlog import EventLog
from tidegate.events.webhooks import Outgoing, WebhookSender
from tidegate.singletons import Singleton

log = logging.getLogger(__name__)

# After a nudge, how long a pass waits for more commits: concurrent pushes finishing
# together are then logged in one pass (one fsync, two transactions) instead of one each.
SETTLE_SECONDS = 0.1


@dataclass(frozen=True, slots=True)
class DispatchReport:
    """What one pass did, and when the next delivery falls due (None: nothing pending)."""

    logged: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    next_due: float | None = None


def retry_delay(attempts: int, base: float, cap: float, rand: Callable[[], float]) -> float:
    """Seconds before attempt `attempts + 1`: base·2^(attempts-1), capped, times U[0.5, 1).

    The jitter spreads retries of many events to a recovering endpoint over time.
    """
    exponent = min(attempts - 1, 60)  # beyond this the cap applies anyway; avoids overflow
    return min(cap, base * 2.0**exponent) * (0.5 + rand() / 2)


class Dispatcher:
    """Moves events from the outbox to the event log and the webhooks, at least once."""

    def __init__(
        self,
        engine: Engine,
        config: EventsConfig,
        *,
        sender: WebhookSender | None = None,
        clock: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.engine = engine
        self.config = config
        self.sender = sender or WebhookSender()
        self.clock = clock
        self.rand = rand
        self.log = EventLog(config.log_path, tail_lines=config.batch_size)
        self.endpoints = {hook.url: hook for hook in config.webhooks}
        self._lock = threading.Lock()  # one pass at a time, whichever thread calls
        self._stopping = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    def nudge(self) -> None:
        """Start a pass soon (new events were committed); safe from any thread."""
        loop, wake = self._loop, self._wake
        if loop is None or wake is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed in between
            loop.call_soon_threadsafe(wake.set)

    def run_once(self) -> DispatchReport:
        """One pass: log every unlogged event, then attempt every due delivery.

        Over PostgreSQL one process at a time makes passes (two would log an event twice);
        the others find the work held and try again at their next poll.
        """
        with self._lock, singletons.hold(self.engine, Singleton.OUTBOX) as held:
            if not held:
                return DispatchReport()
            logged = self._log_pending()
            delivered, retrying, failed = self._send_due()
            with reading(self.engine) as conn:
                upcoming = deliveries.next_due(conn, list(self.endpoints))
        return DispatchReport(logged, delivered, retrying, failed, upcoming)

    def _log_pending(self) -> int:
        total = 0
        while not self._stopping.is_set():
            # Under BEGIN IMMEDIATE on SQLite: waits for a writer that is committing events.
            with self.engine.begin() as conn:
                batch = outbox.unlogged(conn, self.config.batch_size)
            if not batch:
                break
            total += self.log.append([(event.event_id, event.body) for event in batch])
            now = self.clock()
            pairs = [
                (event.event_id, hook.url)
                for event in batch
                for hook in self.config.webhooks
                if hook.wants(event.detail_type)
            ]
            with self.engine.begin() as conn:
                outbox.mark_logged(conn, [event.id for event in batch], now)
                deliveries.ensure_deliveries(conn, pairs, now)
            if len(batch) < self.config.batch_size:
                break
        return total

    def _send_due(self) -> tuple[int, int, int]:
        counts = [0, 0, 0]  # delivered, retrying, failed
        broken: set[str] = set()
        with reading(self.engine) as conn:
            due = deliveries.due(conn, list(self.endpoints), self.clock(), self.config.batch_size)
        for item in due:
            if self._stopping.is_set():
                break
            if item.delivery.endpoint in broken:
                continue
            outcome = self._attempt(item)
            if outcome is not None:
                counts[outcome] += 1
                if outcome != 0:
                    broken.add(item.delivery.endpoint)
        return counts[0], counts[1], counts[2]

    def _attempt(self, item: DueDelivery) -> int | None:
        """Send one delivery; 0 delivered, 1 will retry, 2 failed, None if not claimed."""
        delivery = item.delivery
        with self.engine.begin() as conn:
            if not deliveries.claim(conn, delivery, self.clock() + self.config.lease_seconds):
                return None
        endpoint = self.endpoints[delivery.endpoint]
        outgoing = Outgoing(
            delivery.event_id, item.detail_type, item.body.encode(), delivery.attempts + 1
        )
        result = self.sender.send(endpoint, outgoing, self.clock())
        now = self.clock()
        with self.engine.begin() as conn:
            if result.ok:
                deliveries.record_delivered(conn, delivery, result.status or 200, now)
                return 0
            attempts = delivery.attempts + 1
            expired = now - item.event_created_at >= self.config.max_age_seconds
            retry_at: float | None = None
            if attempts < self.config.max_attempts and not expired:
                retry_at = now + retry_delay(
                    attempts, self.config.retry_base_seconds, self.config.retry_max_seconds,
                    self.rand,
                )  # fmt: skip
            deliveries.record_failure(
                conn, delivery, status=result.status, error=result.error or "", retry_at=retry_at
            )
        log.warning(
            "webhook delivery failed",
            extra={
                "fields": {
                    "event_id": delivery.event_id,
                    "endpoint": delivery.endpoint,
                    "attempt": attempts,
                    "error": result.error,
                    "gave_up": retry_at is None,
                }
            },
        )
        return 1 if retry_at is not None else 2

    async def run(self, stop: asyncio.Event) -> None:
        """Run passes until `stop` is set; errors are logged and the loop carries on."""
        self._loop = asyncio.get_running_loop()
        self._wake = wake = asyncio.Event()
        try:
            while not stop.is_set():
                wake.clear()
                timeout = self.config.poll_interval_seconds
                try:
                    report = await asyncio.to_thread(self.run_once)
                except Exception:
                    log.exception("event dispatch pass failed")
                else:
                    if report.next_due is not None:
                        timeout = max(0.0, min(timeout, report.next_due - self.clock()))
                await _wait_any(stop, wake, timeout)
                if wake.is_set() and not stop.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), SETTLE_SECONDS)
        finally:
            self._loop = self._wake = None

    def stop(self) -> None:
        """Make a pass in progress finish after its current request."""
        self._stopping.set()

    def close(self) -> None:
        """Release the HTTP client."""
        self.sender.close()


async def _wait_any(first: asyncio.Event, second: asyncio.Event, seconds: float) -> None:
    waiters = [asyncio.create_task(first.wait()), asyncio.create_task(second.wait())]
    _, pending = await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
