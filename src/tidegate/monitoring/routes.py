"""`/metrics` (Prometheus text format), `/healthz` (alive) and `/readyz` (able to serve).

/metrics needs the API's credentials (Basic: an access key, or the registry token) and
ecr:DescribeRegistry, like `/api/status`; `metrics_bind` serves the same page without
credentials on a separate address, for a scraper on a private network.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    generate_latest,
    multiprocess,
    start_http_server,
)
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tidegate.access import authorize
from tidegate.db import head_revision, reading, schema_revision
from tidegate.metrics.procdir import ENV
from tidegate.monitoring.collector import StateCollector
from tidegate.registry.service import RegistryService
from tidegate.registry.storage.base import BlobStore
from tidegate.webapi.errors import handles_errors

log = logging.getLogger(__name__)


def scrape_metrics(registry: RegistryService, vulndb_dir: Path) -> CollectorRegistry:
    """Every process's counters and histograms (multiprocess files) plus the shared gauges."""
    collected = CollectorRegistry(auto_describe=True)
    if os.environ.get(ENV):
        multiprocess.MultiProcessCollector(collected)  # type: ignore[no-untyped-call]
    collected.register(StateCollector(registry.engine, vulndb_dir))
    return collected


def render(registry: RegistryService, vulndb_dir: Path) -> bytes:
    return generate_latest(scrape_metrics(registry, vulndb_dir))


@handles_errors
async def metrics(request: Request) -> Response:
    await authorize(request, None, "base")
    body = await run_in_threadpool(
        render, request.app.state.registry, request.app.state.settings.vulndb_dir
    )
    return Response(body, media_type=CONTENT_TYPE_LATEST)


async def healthz(request: Request) -> Response:
    """The process answers: nothing else is checked (a load balancer's liveness probe)."""
    return Response('{"status": "ok"}', media_type="application/json")


def storage_problem(store: BlobStore) -> str | None:
    """Why the blob store cannot take requests, or None. The one place that asks the store;
    a driver with its own `ready()` check (S3: the bucket answers) is asked that instead."""
    ready = getattr(store, "ready", None)
    if callable(ready):
        try:
            ready()
        except Exception as exc:  # any failure means not ready; the reason says which
            return f"{type(exc).__name__}: {exc}"
        return None
    root = getattr(store, "root", None)
    if isinstance(root, Path):
        for sub in ("blobs", "uploads", "tmp"):
            if not (root / sub).is_dir() or not os.access(root / sub, os.W_OK | os.X_OK):
                return f"{root / sub} is missing or not writable"
    return None


def readiness(registry: RegistryService, head: str | None) -> list[str]:
    """Reasons this process cannot serve (empty when ready)."""
    reasons: list[str] = []
    try:
        with reading(registry.engine) as conn:
            current = schema_revision(conn)
        if current != head:
            reasons.append(f"database schema is at migration {current}, this server needs {head}")
    except Exception as exc:  # unreachable, dropped, locked: all mean not ready
        reasons.append(f"database unreachable: {type(exc).__name__}: {exc}".splitlines()[0])
    problem = storage_problem(registry.store)
    if problem is not None:
        reasons.append(f"blob storage not ready: {problem}")
    return reasons


def make_readyz(head: str | None) -> Callable[[Request], Awaitable[Response]]:
    async def readyz(request: Request) -> Response:
        """Database reachable, schema at this code's migration head, blob store usable."""
        reasons = await run_in_threadpool(readiness, request.app.state.registry, head)
        if reasons:
            log.warning("not ready", extra={"fields": {"reasons": reasons}})
            body = {"status": "unavailable", "reasons": reasons}
            return Response(json.dumps(body), status_code=503, media_type="application/json")
        return Response('{"status": "ready"}', media_type="application/json")

    return readyz


def health_routes() -> list[Route]:
    return [
        Route("/metrics", metrics, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route("/readyz", make_readyz(head_revision()), methods=["GET", "HEAD"]),
    ]


def serve_metrics_on(bind: str, registry: RegistryService, vulndb_dir: Path) -> Callable[[], None]:
    """Serve /metrics without credentials on `bind` ("host:port") from a thread; returns
    the stop function."""
    host, _, port = bind.rpartition(":")
    server, thread = start_http_server(
        int(port),
        addr=host.strip("[]") or "127.0.0.1",
        registry=scrape_metrics(registry, vulndb_dir),
    )

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(5)

    return stop
