"""Event delivery settings: where events go and how hard delivery tries.

The `[[webhooks]]` and `[events]` tables (and their `TIDEGATE_WEBHOOKS` / `TIDEGATE_EVENTS`
overrides) are parsed once by `tidegate.config`; this module adds what only the events
package knows: the log path and the detail-types a webhook may subscribe to.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tidegate.config import Settings, WebhookEndpoint
from tidegate.errors import InvalidParameter
from tidegate.events.model import DETAIL_TYPES

__all__ = ["EventsConfig", "WebhookEndpoint", "load_events_config"]


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


def load_events_config(settings: Settings) -> EventsConfig:
    """The events configuration of `settings`."""
    for index, hook in enumerate(settings.webhooks):
        unknown = sorted((hook.detail_types or frozenset()) - set(DETAIL_TYPES))
        if unknown:
            msg = (
                f"webhooks[{index}]: detail_types must be among {', '.join(DETAIL_TYPES)}; "
                f"unknown: {', '.join(unknown)}"
            )
            raise InvalidParameter(msg)
    section = settings.events
    return EventsConfig(
        log_path=settings.data_dir / "events" / "events.jsonl",
        webhooks=settings.webhooks,
        retry_base_seconds=section.retry_base_seconds,
        retry_max_seconds=section.retry_max_seconds,
        max_attempts=section.max_attempts,
        max_age_seconds=section.max_age_seconds,
        poll_interval_seconds=section.poll_interval_seconds,
        batch_size=section.batch_size,
        lease_seconds=section.lease_seconds,
    )
