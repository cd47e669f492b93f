"""Connect events to the registry and the server's lifespan.

runtime = install(registry, settings)   # push/delete hooks emit ECR Image Action events
await start(app)                         # in the lifespan: the dispatcher loop
await stop(app)                          # on shutdown: finish the current request, close
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.engine import Connection
from starlette.applications import Starlette

from tidegate.config import Settings
from tidegate.events.config import EventsConfig, load_events_config
from tidegate.events.dispatcher import Dispatcher
from tidegate.events.model import Origin, image_action
from tidegate.events.outbox import emit, notify_on_commit
from tidegate.registry.service import (
    DeletedImage,
    DeleteHook,
    PushedImage,
    PushHook,
    RegistryService,
)

log = logging.getLogger(__name__)


@dataclass
class EventsRuntime:
    """The installed event machinery of one server (kept on `app.state.events`)."""

    origin: Origin
    config: EventsConfig
    dispatcher: Dispatcher
    undo_listener: Callable[[], None]
    stop_event: asyncio.Event | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)


def origin_for(settings: Settings) -> Origin:
    """The account and region events are stamped with."""
    return Origin(account=settings.registry_id, region=settings.region)


def push_hook(origin: Origin) -> PushHook:
    """A registry push hook that emits `ECR Image Action` PUSH in the push transaction."""

    def on_push(conn: Connection, image: PushedImage) -> None:
        config = image.parsed.config
        emit(
            conn,
            image_action(
                origin,
                action="PUSH",
                repository_name=image.repo.name,
                image_digest=image.manifest.digest,
                image_tag=image.tag,
                manifest_media_type=image.manifest.media_type,
                # ECR reports the config media type; OCI artifacts name their own type.
                artifact_media_type=image.manifest.artifact_type
                or (config.media_type if config else None),
            ),
        )

    return on_push


def delete_hook(origin: Origin) -> DeleteHook:
    """A delete hook emitting one `ECR Image Action` DELETE per removed tag (or one untagged).

    `image-tag` is a single string in ECR's schema, so an image deleted with three tags
    yields three events rather than one that names only some of them.
    """

    def on_delete(conn: Connection, image: DeletedImage) -> None:
        tags: list[str | None] = [*sorted(image.tags)] or [None]
        for tag in tags:
            emit(
                conn,
                image_action(
                    origin,
                    action="DELETE",
                    repository_name=image.repo.name,
                    image_digest=image.manifest.digest,
                    image_tag=tag,
                    manifest_media_type=image.manifest.media_type,
                ),
            )

    return on_delete


def install(registry: RegistryService, settings: Settings) -> EventsRuntime:
    """Register the push/delete hooks and build the dispatcher (not started yet)."""
    origin = origin_for(settings)
    config = load_events_config(settings)
    dispatcher = Dispatcher(registry.engine, config)
    registry.hooks.on_push.append(push_hook(origin))
    registry.hooks.on_delete.append(delete_hook(origin))
    undo = notify_on_commit(registry.engine, dispatcher.nudge)
    return EventsRuntime(origin, config, dispatcher, undo)


async def start(app: Starlette) -> None:
    """Start the dispatcher loop of `app.state.events` as a background task."""
    runtime: EventsRuntime = app.state.events
    runtime.stop_event = asyncio.Event()
    runtime.task = asyncio.create_task(runtime.dispatcher.run(runtime.stop_event))


async def stop(app: Starlette) -> None:
    """Stop the loop after the request in flight, then release the HTTP client."""
    runtime: EventsRuntime = app.state.events
    runtime.dispatcher.stop()
    if runtime.stop_event is not None:
        runtime.stop_event.set()
    if runtime.task is not None:
        with contextlib.suppress(asyncio.CancelledError):
            await runtime.task
    runtime.undo_listener()
    runtime.dispatcher.close()
