"""Requests, latency and body bytes by route template and status, for every HTTP request."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tidegate.metrics import instruments
from tidegate.metrics.instruments import ROUTE_SCOPE_KEY


def route_of(scope: Scope) -> str:
    """The template that answered (`/v2/{name}/manifests/{reference}`), never the raw path."""
    template = scope.get(ROUTE_SCOPE_KEY)
    if isinstance(template, str):
        return template
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else "unmatched"


class MetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        received = sent = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
            return message

        async def counting_send(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counting_receive, counting_send)
        finally:
            route = route_of(scope)
            method = scope.get("method", "")
            code = str(status)
            instruments.REQUESTS.labels(method, route, code).inc()
            instruments.LATENCY.labels(method, route, code).observe(time.perf_counter() - started)
            if received:
                instruments.BYTES_IN.labels(route).inc(received)
            if sent:
                instruments.BYTES_OUT.labels(route).inc(sent)
