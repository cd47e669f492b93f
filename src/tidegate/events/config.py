"""Event delivery settings: webhook endpoints and retry policy.

From the TOML file (`[[webhooks]]` tables and an `[events]` table, which `Settings` keeps
in `extra`) or, overriding them, from `TIDEGATE_WEBHOOKS` (a JSON list of the same tables)
and `TIDEGATE_EVENTS` (a JSON object), read once at start-up:

    [[webhooks]]
    url = "https://hooks.example.com/tidegate"
    secret = "a long random string"
    detail_types = ["ECR Image Action", "ECR Image Scan"]   # optional; default: every event
    timeout_seconds = 10                                      # optional

    [events]
    retry_base_seconds = 1       # first retry after 0.5 to 1 s, doubling each time (jittered)
    retry_max_seconds = 900      # never wait longer than this between attempts
    max_attempts = 50            # then the delivery is `failed` (kept; `events redeliver`)
    max_age_seconds = 259200     # or when the event is this old (3 days)
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tidegate.config import Settings
from tidegate.errors import InvalidParameter
from tidegate.events.model import DETAIL_TYPES

WEBHOOKS_ENV = "TIDEGATE_WEBHOOKS"
EVENTS_ENV = "TIDEGATE_EVENTS"


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    """One receiver: events (optionally only some detail-types) are POSTed to `url`."""

    url: str
    secret: str
    detail_types: frozenset[str] | None = None
    timeout_seconds: float = 10.0

    def wants(self, detail_type: str) -> bool:
        """True when this endpoint subscribes to events of `detail_type`."""
        return self.detail_types is None or detail_type in self.detail_types


@dataclass(frozen=True, slots=True)
class EventsConfig:
    """Where events go and how hard delivery tries."""

    log_path: Path
    webhooks: tuple[WebhookEndpoint, ...] = ()
    retry_base_seconds: float = 1.0
    retry_max_seconds: float = 900.0
    max_attempts: int = 50
    max_age_seconds: float = 3 * 86400.0
    poll_interval_seconds: float = 2.0
    batch_size: int = 100
    # A claimed delivery whose sender died is retried after this long.
    lease_seconds: float = 120.0


_NUMBERS = {
    "retry_base_seconds": float,
    "retry_max_seconds": float,
    "max_attempts": int,
    "max_age_seconds": float,
    "poll_interval_seconds": float,
    "batch_size": int,
    "lease_seconds": float,
}


def load_events_config(
    settings: Settings, environ: Mapping[str, str] | None = None
) -> EventsConfig:
    """The events configuration for `settings`; env JSON wins over the TOML tables."""
    env = os.environ if environ is None else environ
    raw_hooks: Any = settings.extra.get("webhooks", [])
    raw_events: Any = settings.extra.get("events", {})
    if WEBHOOKS_ENV in env:
        raw_hooks = _json(env[WEBHOOKS_ENV], WEBHOOKS_ENV)
    if EVENTS_ENV in env:
        raw_events = {**_mapping(raw_events, "[events]"), **_json(env[EVENTS_ENV], EVENTS_ENV)}
    if not isinstance(raw_hooks, list):
        msg = "webhooks must be a list of tables ([[webhooks]] in TOML)"
        raise InvalidParameter(msg)
    hooks = tuple(_endpoint(item, n) for n, item in enumerate(raw_hooks))
    urls = [hook.url for hook in hooks]
    if len(set(urls)) != len(urls):
        msg = "each webhook url may be configured only once"
        raise InvalidParameter(msg)
    numbers: dict[str, Any] = {}
    for key, value in _mapping(raw_events, "[events]").items():
        if key not in _NUMBERS:
            msg = f"unknown [events] setting {key!r}; known: {', '.join(sorted(_NUMBERS))}"
            raise InvalidParameter(msg)
        numbers[key] = _positive(value, _NUMBERS[key], f"[events] {key}")
    log_path = settings.data_dir / "events" / "events.jsonl"
    return EventsConfig(log_path=log_path, webhooks=hooks, **numbers)


def _json(text: str, name: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"{name} is not valid JSON: {exc}"
        raise InvalidParameter(msg) from exc


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        msg = f"{what} must be a table / JSON object"
        raise InvalidParameter(msg)
    return value


def _positive(value: Any, kind: type[int] | type[float], what: str) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        msg = f"{what} must be a positive number, not {value!r}"
        raise InvalidParameter(msg)
    return kind(value)


def _endpoint(item: Any, index: int) -> WebhookEndpoint:
    where = f"webhooks[{index}]"
    table = _mapping(item, where)
    unknown = set(table) - {"url", "secret", "detail_types", "timeout_seconds"}
    if unknown:
        msg = f"{where}: unknown keys {', '.join(sorted(unknown))}"
        raise InvalidParameter(msg)
    url = table.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        msg = f"{where}: url must be an http:// or https:// URL"
        raise InvalidParameter(msg)
    secret = table.get("secret")
    if not isinstance(secret, str) or not secret:
        # An unsigned webhook could be forged by anyone who can reach the receiver.
        msg = f"{where}: secret is required (it signs every delivery)"
        raise InvalidParameter(msg)
    types = table.get("detail_types")
    detail_types: frozenset[str] | None = None
    if types is not None:
        if not isinstance(types, list) or not all(t in DETAIL_TYPES for t in types) or not types:
            msg = f"{where}: detail_types must be a non-empty list of {', '.join(DETAIL_TYPES)}"
            raise InvalidParameter(msg)
        detail_types = frozenset(types)
    timeout = _positive(table.get("timeout_seconds", 10.0), float, f"{where} timeout_seconds")
    return WebhookEndpoint(url, secret, detail_types, float(timeout))
