"""Event delivery settings: where events go and how hard delivery tries.

The `[[webhooks]]` and `[events]` tables (and their `TIDEGATE_WEBHOOKS` / `TIDEGATE_EVENTS`
overrides) are parsed once by `tidegate.config`; this module adds what only the events
package knows: the log path and the detail-types a webhook may subscribe to.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from tidegate.config import EventsSection, Settings, WebhookEndpoint
from tidegate.errors import InvalidParameter
from tidegate.events.model import DETAIL_TYPES

__all__ = ["EventsConfig", "WebhookEndpoint", "load_events_config"]


@dataclass(frozen=True, slots=True, kw_only=True)
class EventsConfig(EventsSection):
    """Where events go and how hard delivery tries (the `[events]` numbers, inherited)."""

    log_path: Path
    webhooks: tuple[WebhookEndpoint, ...] = ()


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
    return EventsConfig(
        log_path=settings.data_dir / "events" / "events.jsonl",
        webhooks=settings.webhooks,
        **dataclasses.asdict(settings.events),
    )
