"""Events from a real `tidegate serve`: pushes and deletes reach a real webhook and the log.

The receiver is an HTTP server on loopback that checks every signature; "down" means
nothing listens on its port yet, so the server's connections are refused.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import image_manifest, put_manifest
from tests.support.server import TidegateServer, free_port
from tests.unit.events.webhook_receiver import Received, Receiver
from tidegate.db import create_engine, reading
from tidegate.events import deliveries

pytestmark = pytest.mark.integration

SECRET = "integration-secret"
FAST_RETRIES = json.dumps(
    {"retry_base_seconds": 0.2, "retry_max_seconds": 1, "poll_interval_seconds": 0.5}
)


def server_env(receiver: Receiver) -> dict[str, str]:
    return {
        "TIDEGATE_ANONYMOUS_ACCESS": "push",
        "TIDEGATE_WEBHOOKS": json.dumps([{"url": receiver.url, "secret": SECRET}]),
        "TIDEGATE_EVENTS": FAST_RETRIES,
    }


def push_image(server: TidegateServer, name: str, tag: str, layer: bytes) -> str:
    with httpx.Client(base_url=server.url, timeout=30.0) as client:
        body = image_manifest(client, name, [layer])
        response = put_manifest(client, name, tag, body)
        assert response.status_code == 201, response.text
        digest: str = response.headers["Docker-Content-Digest"]
        return digest


def logged(data_dir: Path) -> list[dict[str, Any]]:
    path = data_dir / "events" / "events.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def wait_until(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            msg = "condition not met in time"
            raise AssertionError(msg)
        time.sleep(0.05)


def of_action(action: str) -> Callable[[list[Received]], bool]:
    return lambda reqs: any(r.envelope["detail"].get("action-type") == action for r in reqs)


def test_push_and_delete_reach_the_webhook_and_the_log(tmp_path: Path) -> None:
    with (
        Receiver(SECRET) as receiver,
        TidegateServer(tmp_path / "data", env=server_env(receiver)) as server,
    ):
        digest = push_image(server, "events/app", "v1", b"layer one")
        receiver.wait_for(of_action("PUSH"))
        with httpx.Client(base_url=server.url, timeout=30.0) as client:
            response = client.delete(f"/v2/events/app/manifests/{digest}")
            assert response.status_code == 202, response.text
        receiver.wait_for(of_action("DELETE"))
        wait_until(lambda: len(logged(server.data_dir)) == 2)

    assert all(r.signature_ok for r in receiver.requests)
    events = list(receiver.unique_events().values())
    assert [e["detail"] for e in events] == [
        {
            "result": "SUCCESS",
            "repository-name": "events/app",
            "image-digest": digest,
            "action-type": action,
            "image-tag": "v1",
            "manifest-media-type": "application/vnd.oci.image.manifest.v1+json",
            **({"artifact-media-type": "application/vnd.oci.image.config.v1+json"}
               if action == "PUSH" else {}),
        }
        for action in ("PUSH", "DELETE")
    ]  # fmt: skip
    for event in events:
        assert (event["detail-type"], event["source"], event["account"]) == (
            "ECR Image Action", "aws.ecr", "000000000000"
        )  # fmt: skip
    assert [e["id"] for e in logged(tmp_path / "data")] == [e["id"] for e in events]


def test_a_down_webhook_and_a_killed_server_lose_nothing(tmp_path: Path) -> None:
    receiver = Receiver(SECRET, port=free_port())  # not started: the endpoint is down
    server = TidegateServer(tmp_path / "data", env=server_env(receiver))
    server.start()
    try:
        digest = push_image(server, "events/crash", "v1", b"layer crash")
        server.kill9()  # maybe before the event was logged or sent: the outbox has it
        server.start()
        engine = create_engine(f"sqlite:///{server.data_dir / 'meta.db'}")

        def attempts() -> int:
            with reading(engine) as conn:
                return sum(d.attempts for d in deliveries.list_deliveries(conn))

        def states() -> list[str]:
            with reading(engine) as conn:
                return [d.state.value for d in deliveries.list_deliveries(conn)]

        wait_until(lambda: attempts() >= 2)  # retried with backoff while the receiver is down
        with receiver:
            receiver.wait_for(of_action("PUSH"))
            wait_until(lambda: states() == ["delivered"])
        with reading(engine) as conn:
            [row] = deliveries.list_deliveries(conn)
        engine.dispose()
    finally:
        server.stop()
    assert row.attempts >= 3
    assert row.last_status == 200
    [event] = receiver.unique_events().values()
    assert event["detail"]["image-digest"] == digest
    assert event["detail"]["image-tag"] == "v1"
    assert [e["id"] for e in logged(tmp_path / "data")] == [event["id"]]
