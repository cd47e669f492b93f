"""Helpers shared by the event tests (importable, unlike conftest)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from tidegate.events.config import EventsConfig, WebhookEndpoint
from tidegate.events.model import Origin, image_action
from tidegate.events.outbox import emit

SECRET = "s3cret-for-tests"
DIGEST = "sha256:" + "cd" * 32


class Clock:
    """A clock the test moves by hand, so backoff needs no sleeping."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_config(tmp_path: Path, *hooks: WebhookEndpoint, **changes: Any) -> EventsConfig:
    """Retries from 1 s doubling to 60 s; tests move the injected clock instead of sleeping."""
    base = EventsConfig(
        log_path=tmp_path / "events" / "events.jsonl",
        webhooks=hooks,
        retry_base_seconds=1.0,
        retry_max_seconds=60.0,
    )
    return dataclasses.replace(base, **changes)


def emit_pushes(engine: Engine, origin: Origin, count: int, repo: str = "app") -> list[str]:
    """Commit `count` PUSH events, one transaction each; returns their ids in order."""
    ids = []
    for n in range(count):
        event = image_action(
            origin, action="PUSH", repository_name=repo, image_digest=DIGEST, image_tag=f"v{n}"
        )
        with engine.begin() as conn:
            emit(conn, event)
        ids.append(event.id)
    return ids
