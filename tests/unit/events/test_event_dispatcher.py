"""Webhook delivery against a real HTTP receiver on loopback: signed, retried, never lost."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.support.server import free_port
from tests.unit.events.helpers import SECRET, Clock, emit_pushes, make_config
from tests.unit.events.webhook_receiver import Receiver
from tidegate.db import reading
from tidegate.events import deliveries
from tidegate.events.config import EventsConfig, WebhookEndpoint
from tidegate.events.deliveries import DeliveryState
from tidegate.events.dispatcher import Dispatcher, retry_delay
from tidegate.events.model import Origin, image_scan
from tidegate.events.outbox import emit, notify_on_commit
from tidegate.events.webhooks import sign, verify


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver(SECRET) as r:
        yield r


def dispatcher_for(engine: Engine, config: EventsConfig, clock: Clock) -> Dispatcher:
    return Dispatcher(engine, config, clock=clock, rand=lambda: 0.0)


def rows(engine: Engine) -> list[deliveries.Delivery]:
    with reading(engine) as conn:
        return deliveries.list_deliveries(conn)[::-1]


def test_retry_delay_doubles_is_capped_and_jittered() -> None:
    assert [retry_delay(n, 1.0, 10.0, lambda: 0.999999) for n in (1, 2, 3, 4, 5)] == (
        pytest.approx([1.0, 2.0, 4.0, 8.0, 10.0], rel=1e-5)
    )
    assert retry_delay(3, 1.0, 10.0, lambda: 0.0) == 2.0
    assert retry_delay(10_000, 1.0, 10.0, lambda: 0.0) == 5.0


def test_sign_and_verify() -> None:
    assert sign("k", b"body").startswith("sha256=")
    assert verify("k", b"body", sign("k", b"body"))
    assert not verify("k", b"body2", sign("k", b"body"))
    assert not verify("k", b"body", None)


def test_delivers_signed_events_in_order_and_logs_them(
    tmp_path: Path, engine: Engine, origin: Origin, clock: Clock, receiver: Receiver
) -> None:
    ids = emit_pushes(engine, origin, 3)
    config = make_config(tmp_path, WebhookEndpoint(receiver.url, SECRET))
    dispatcher = dispatcher_for(engine, config, clock)
    try:
        report = dispatcher.run_once()
    finally:
        dispatcher.close()
    assert (report.logged, report.delivered, report.next_due) == (3, 3, None)
    assert [r.headers["X-Tidegate-Event-Id"] for r in receiver.requests] == ids
    first = receiver.requests[0]
    assert all(r.signature_ok for r in receiver.requests)
    assert first.headers["X-Tidegate-Event-Type"] == "ECR Image Action"
    assert first.headers["X-Tidegate-Delivery-Attempt"] == "1"
    assert first.headers["X-Tidegate-Timestamp"] == str(int(clock.now))
    assert first.headers["Content-Type"] == "application/json"
    assert first.envelope["detail"]["action-type"] == "PUSH"
    assert first.body.decode() == config.log_path.read_text().splitlines()[0]
    assert [(d.state, d.attempts, d.last_status) for d in rows(engine)] == [
        (DeliveryState.DELIVERED, 1, 200)
    ] * 3


def test_an_endpoint_that_is_down_loses_nothing(
    tmp_path: Path, engine: Engine, origin: Origin, clock: Clock
) -> None:
    port = free_port()  # nothing listens here yet: connections are refused
    receiver = Receiver(SECRET, port=port)
    config = make_config(tmp_path, WebhookEndpoint(receiver.url, SECRET, timeout_seconds=2))
    dispatcher = dispatcher_for(engine, config, clock)
    ids = emit_pushes(engine, origin, 4)
    try:
        report = dispatcher.run_once()
        # One refused connection per pass: the dead endpoint's other events wait their turn.
        assert (report.logged, report.delivered, report.retrying) == (4, 0, 1)
        assert report.next_due == clock.now
        clock.advance(0.1)
        report = dispatcher.run_once()
        assert (report.delivered, report.retrying) == (0, 1)
        [first, *_] = rows(engine)
        assert first.state == DeliveryState.PENDING
        assert first.attempts == 1
        assert first.last_status is None
        assert first.last_error is not None
        assert "ConnectError" in first.last_error
        with receiver:
            clock.advance(60)
            report = dispatcher.run_once()
            assert (report.delivered, report.retrying, report.next_due) == (4, 0, None)
            assert list(receiver.unique_events()) == ids
    finally:
        dispatcher.close()
    attempts = {d.event_id: d.attempts for d in rows(engine)}
    assert attempts == {ids[0]: 2, ids[1]: 2, ids[2]: 1, ids[3]: 1}
    assert all(d.state == DeliveryState.DELIVERED for d in rows(engine))


def test_server_errors_are_retried_with_backoff(
    tmp_path: Path, engine: Engine, origin: Origin, clock: Clock
) -> None:
    with Receiver(SECRET, statuses=[500, 503]) as receiver:
        config = make_config(tmp_path, WebhookEndpoint(receiver.url, SECRET))
        dispatcher = dispatcher_for(engine, config, clock)
        [event_id] = emit_pushes(engine, origin, 1)
        try:
            assert dispatcher.run_once().retrying == 1
            assert rows(engine)[0].next_attempt_at == clock.now + 0.5  # 1 s x jitter 0.5
            assert dispatcher.run_once().retrying == 0  # not due yet: nothing sent
            assert len(receiver.requests) == 1
            clock.advance(0.5)
            assert dispatcher.run_once().retrying == 1
            assert rows(engine)[0].next_attempt_at == clock.now + 1.0
            clock.advance(1.0)
            assert dispatcher.run_once().delivered == 1
        finally:
            dispatcher.close()
    [row] = rows(engine)
    assert (row.state, row.attempts, row.last_status, row.last_error) == (
        DeliveryState.DELIVERED, 3, 200, None
    )  # fmt: skip
    assert [r.headers["X-Tidegate-Delivery-Attempt"] for r in receiver.requests] == ["1", "2", "3"]
    assert set(receiver.unique_events()) == {event_id}


def test_gives_up_after_max_attempts_keeps_the_row_and_redelivers(
    tmp_path: Path, engine: Engine, origin: Origin, clock: Clock
) -> None:
    with Receiver(SECRET, statuses=[500, 500]) as receiver:
        config = make_config(tmp_path, WebhookEndpoint(receiver.url, SECRET), max_attempts=2)
        dispatcher = dispatcher_for(engine, config, clock)
        [event_id] = emit_pushes(engine, origin, 1)
        try:
            dispatcher.run_once()
            clock.advance(10)
            assert dispatcher.run_once().failed == 1
            [row] = rows(engine)
            assert (row.state, row.attempts, row.last_status) == (DeliveryState.FAILED, 2, 500)
            assert row.last_error is not None
            assert row.last_error.startswith("HTTP 500")
            clock.advance(1000)
            assert dispatcher.run_once().delivered == 0
            with engine.begin() as conn:
                assert deliveries.redeliver(conn, event_id, [receiver.url], clock.now) == 1
            assert dispatcher.run_once().delivered == 1
            # A redelivery of a delivered event: at least once, the consumer dedupes by id.
            with engine.begin() as conn:
                deliveries.redeliver(conn, event_id, [receiver.url], clock.now)
            assert dispatcher.run_once().delivered == 1
        finally:
            dispatcher.close()
    assert len(receiver.requests) == 4
    assert list(receiver.unique_events()) == [event_id]


def test_gives_up_when_the_event_is_too_old(
    tmp_path: Path, engine: Engine, origin: Origin, clock: Clock
) -> None:
    config = make_config(
        tmp_path, WebhookEndpoint(f"http://127.0.0.1:{free_port()}/", SECRET), max_age_seconds=30
    )
    dispatcher = dispatcher_for(engine, config, clock)
    emit_pushes(engine, origin, 1)
    try:
        assert dispatcher.run_once().retrying == 1
        clock.advance(31)
        assert dispatcher.run_once().failed == 1
    finally:
        dispatcher.close()
    assert rows(engine)[0].state == DeliveryState.FAILED


def test_endpoints_get_only_the_detail_types_they_subscribe_to(
    tmp_path: Path, engine: Engine, origin: Origin, clock: Clock, receiver: Receiver
) -> None:
    with Receiver(SECRET) as scans_only:
        config = make_config(
            tmp_path,
            WebhookEndpoint(receiver.url, SECRET),
            WebhookEndpoint(scans_only.url, SECRET, frozenset({"ECR Image Scan"})),
        )
        emit_pushes(engine, origin, 2)
        scan = image_scan(
            origin, repository_name="app", image_digest="sha256:" + "0" * 64, image_tags=["v0"],
            severity_counts={"HIGH": 2},
        )  # fmt: skip
        with engine.begin() as conn:
            emit(conn, scan)
        dispatcher = dispatcher_for(engine, config, clock)
        try:
            assert dispatcher.run_once().delivered == 4
        finally:
            dispatcher.close()
        assert list(scans_only.unique_events()) == [scan.id]
        assert len(receiver.unique_events()) == 3


def test_a_claimed_delivery_is_not_sent_twice(
    tmp_path: Path, engine: Engine, origin: Origin, clock: Clock, receiver: Receiver
) -> None:
    config = make_config(tmp_path, WebhookEndpoint(receiver.url, SECRET))
    emit_pushes(engine, origin, 1)
    first = dispatcher_for(engine, config, clock)
    try:
        first.run_once()
    finally:
        first.close()
    with engine.begin() as conn:
        [row] = deliveries.list_deliveries(conn)
        assert not deliveries.claim(conn, row, clock.now + 60)  # already delivered
    assert len(receiver.requests) == 1


def test_run_loop_is_nudged_by_commits_from_other_threads(
    tmp_path: Path, engine: Engine, origin: Origin, receiver: Receiver
) -> None:
    # A poll interval far beyond the wait below: only the commit nudge can explain delivery.
    config = make_config(tmp_path, WebhookEndpoint(receiver.url, SECRET), poll_interval_seconds=600)
    dispatcher = Dispatcher(engine, config)
    undo = notify_on_commit(engine, dispatcher.nudge)

    async def scenario() -> list[str]:
        stop = asyncio.Event()
        task = asyncio.create_task(dispatcher.run(stop))
        await asyncio.sleep(0.2)  # the first, empty pass has run and the loop sleeps
        ids: list[str] = []
        writer = threading.Thread(target=lambda: ids.extend(emit_pushes(engine, origin, 2)))
        writer.start()
        await asyncio.to_thread(writer.join)
        await asyncio.to_thread(receiver.wait_for, lambda reqs: len(reqs) >= 2, 10.0)
        stop.set()
        await asyncio.wait_for(task, 10)
        return ids

    try:
        ids = asyncio.run(scenario())
    finally:
        undo()
        dispatcher.close()
    assert list(receiver.unique_events()) == ids
