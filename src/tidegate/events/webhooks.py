"""Webhook requests: an HMAC-SHA256-signed POST of the event envelope.

Headers on every delivery:

    Content-Type: application/json
    X-Tidegate-Event-Id: <envelope id>          consumers de-duplicate on it
    X-Tidegate-Event-Type: <detail-type>
    X-Tidegate-Timestamp: <unix seconds of this attempt>
    X-Tidegate-Delivery-Attempt: <1, 2, …>
    X-Tidegate-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>

The signature covers the raw body exactly as sent (the envelope carries its own id and
time, so a replayed request is just a duplicate the consumer's dedupe already drops).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

import httpx

from tidegate import __version__
from tidegate.events.config import WebhookEndpoint

SIGNATURE_HEADER = "X-Tidegate-Signature"
EVENT_ID_HEADER = "X-Tidegate-Event-Id"
EVENT_TYPE_HEADER = "X-Tidegate-Event-Type"
TIMESTAMP_HEADER = "X-Tidegate-Timestamp"
ATTEMPT_HEADER = "X-Tidegate-Delivery-Attempt"


def sign(secret: str, body: bytes) -> str:
    """The signature header value for `body`: `sha256=<hex>`."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """True when `header` is the signature of `body` under `secret` (constant-time)."""
    return header is not None and hmac.compare_digest(sign(secret, body), header)


@dataclass(frozen=True, slots=True)
class SendResult:
    """What one attempt got: a 2xx (`ok`), another status, or a transport error."""

    ok: bool
    status: int | None
    error: str | None


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One event on its way to one endpoint."""

    event_id: str
    detail_type: str
    body: bytes
    attempt: int


class WebhookSender:
    """Posts signed events over one pooled httpx client (never follows redirects)."""

    def __init__(self, transport: httpx.BaseTransport | None = None) -> None:
        self.client = httpx.Client(
            transport=transport,
            follow_redirects=False,
            headers={"User-Agent": f"tidegate/{__version__}"},
        )

    def send(self, endpoint: WebhookEndpoint, event: Outgoing, now: float) -> SendResult:
        """POST `event` to `endpoint`; every failure becomes a `SendResult`, never an exception."""
        headers = {
            "Content-Type": "application/json",
            EVENT_ID_HEADER: event.event_id,
            EVENT_TYPE_HEADER: event.detail_type,
            TIMESTAMP_HEADER: str(int(now)),
            ATTEMPT_HEADER: str(event.attempt),
            SIGNATURE_HEADER: sign(endpoint.secret, event.body),
        }
        timeout = httpx.Timeout(endpoint.timeout_seconds)
        try:
            response = self.client.post(
                endpoint.url, content=event.body, headers=headers, timeout=timeout
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return SendResult(False, None, f"{type(exc).__name__}: {exc}")
        if 200 <= response.status_code < 300:
            return SendResult(True, response.status_code, None)
        snippet = response.text[:200]
        return SendResult(False, response.status_code, f"HTTP {response.status_code}: {snippet}")

    def close(self) -> None:
        """Close pooled connections."""
        self.client.close()
