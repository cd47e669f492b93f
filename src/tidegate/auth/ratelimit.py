"""Failed sign-ins, counted per access key and per source address, with backoff.

After `max_failures` failures of one key (or `max_failures_per_address` from one address,
which may be a NAT in front of many clients) inside `window` seconds,
that key (or address) is refused for `backoff` seconds, doubling with every further failure
up to `backoff_max`, even with correct credentials: a guesser learns nothing while blocked.
A successful sign-in clears its key's count. The state is per process (a
replica counts its own failures); it holds only keys and addresses that failed recently.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tidegate.config import Settings


@dataclass(slots=True)
class _Record:
    failures: list[float] = field(default_factory=list)  # times inside the window
    blocked_until: float = 0.0


class SignInLimiter:
    """Counts failed sign-ins; `retry_after` says whether (and how long) to refuse."""

    def __init__(
        self,
        *,
        max_failures: int,
        max_failures_per_address: int,
        window: float,
        backoff: float,
        backoff_max: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.max_failures_per_address = max_failures_per_address
        self.window = window
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.clock = clock
        self._lock = threading.Lock()
        self._records: dict[str, _Record] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> SignInLimiter:
        return cls(
            max_failures=settings.signin_max_failures,
            max_failures_per_address=settings.signin_max_failures_per_address,
            window=float(settings.signin_window_seconds),
            backoff=float(settings.signin_backoff_seconds),
            backoff_max=float(settings.signin_backoff_max_seconds),
        )

    @staticmethod
    def _subjects(key_id: str | None, address: str | None) -> list[str]:
        subjects = [f"key:{key_id}"] if key_id else []
        return subjects + ([f"ip:{address}"] if address else [])

    def retry_after(self, key_id: str | None, address: str | None) -> float:
        """Seconds until the key or address may sign in again; 0 when it may now."""
        if self.max_failures <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            waits = [
                rec.blocked_until - now
                for s in self._subjects(key_id, address)
                if (rec := self._records.get(s)) is not None and rec.blocked_until > now
            ]
        return max(waits, default=0.0)

    def failed(self, key_id: str | None, address: str | None) -> None:
        if self.max_failures <= 0:
            return
        now = self.clock()
        with self._lock:
            self._forget_stale(now)
            for subject in self._subjects(key_id, address):
                rec = self._records.setdefault(subject, _Record())
                rec.failures = [t for t in rec.failures if now - t < self.window] + [now]
                limit = self.max_failures_per_address if subject[:3] == "ip:" else self.max_failures
                excess = len(rec.failures) - limit
                if excess >= 0:
                    wait = min(self.backoff * (2.0 ** min(excess, 32)), self.backoff_max)
                    rec.blocked_until = max(rec.blocked_until, now + wait)

    def succeeded(self, key_id: str | None) -> None:
        """A good sign-in clears its key's count (not its address's: one valid key must not
        reset the count of an address trying many others)."""
        if not key_id:
            return
        with self._lock:
            self._records.pop(f"key:{key_id}", None)

    def _forget_stale(self, now: float) -> None:
        # Bounded memory under a spray of made-up key ids: drop records with nothing left.
        if len(self._records) < 10_000:
            return
        for subject, rec in list(self._records.items()):
            if rec.blocked_until <= now and all(now - t >= self.window for t in rec.failures):
                del self._records[subject]
