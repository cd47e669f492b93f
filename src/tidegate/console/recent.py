"""Registry-wide aggregates, counted off the request path and kept until the findings change.

The dashboard and the grouped findings views read every open finding (a million rows take
seconds). Each result is kept with the findings stamp it was counted at
(`console_reads.findings_stamp`, read from narrow tables) and served again while the stamp
holds. When it moves, the recount runs in a small worker pool and the request waits for it
at most `wait` seconds: a small registry's recount finishes within that and the page is
exact; a large one's page shows the previous counts, labelled with their time, and reloads
itself when the recount is done (or, on the very first view, a "counting" page). A result
that took longer than `wait` to count is recounted at most once per `_RECOUNT_GAP` times its
counting time, so a busy registry whose stamp never holds does not count all day.

Servers warm the heavy default views at start (`warm`), so even the first visitor rarely
waits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")
MAX_ENTRIES = 256
WAIT_SECONDS = 0.1
WORKERS = 2
_RECOUNT_GAP = 5.0
_MIN_GAP_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Computed(Generic[T]):
    value: T
    at: float  # wall-clock time it was counted
    cached: bool = False
    stale: bool = False  # counted before the findings last changed
    recounting: bool = False  # a newer count is running (the page reloads for it)


@dataclass(frozen=True, slots=True)
class _Entry:
    stamp: Hashable
    result: Computed[Any]
    took: float  # seconds the count took


class Recent:
    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        wait: float = WAIT_SECONDS,
        workers: int = WORKERS,
    ) -> None:
        self.clock = clock
        self.wait = wait
        self._lock = threading.Lock()
        self._items: dict[Hashable, _Entry] = {}
        self._running: dict[Hashable, Future[Computed[Any]]] = {}
        self._failed: dict[Hashable, BaseException] = {}  # counts that failed unwatched
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="console-count")

    def get(self, key: Hashable, stamp: Hashable, compute: Callable[[], T]) -> Computed[T] | None:
        """The result for `key` at `stamp`, a stale one while it is recounted, or None when
        there is none yet (the page says it is counting)."""
        with self._lock:
            failed = self._failed.pop(key, None)
            if failed is not None:
                raise failed  # the page shows the error once; its next view counts again
            entry = self._items.get(key)
            if entry is not None and entry.stamp == stamp:
                return Computed(entry.result.value, entry.result.at, cached=True)
            if entry is not None and self._throttled(entry):
                return Computed(entry.result.value, entry.result.at, cached=True, stale=True)
            future = self._running.get(key)
            if future is None:
                future = self._submit(key, stamp, compute)
        try:
            fresh: Computed[T] = future.result(timeout=self.wait)
        except FutureTimeout:
            if entry is None:
                return None
            old = entry.result
            return Computed(old.value, old.at, cached=True, stale=True, recounting=True)
        except Exception:
            with self._lock:
                self._failed.pop(key, None)  # this request shows it
            raise
        return fresh

    def warm(
        self, key: Hashable, stamp: Callable[[], Hashable], compute: Callable[[], object]
    ) -> None:
        """Count `key` in the background now (at server start), unless already known."""

        def run() -> None:
            at = stamp()
            with self._lock:
                if key in self._items or key in self._running:
                    return
                self._submit(key, at, compute, report=False)

        self._pool.submit(run)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _throttled(self, entry: _Entry) -> bool:
        if entry.took <= self.wait:
            return False
        gap = max(_MIN_GAP_SECONDS, _RECOUNT_GAP * entry.took)
        return self.clock() - entry.result.at < gap

    def _submit(
        self, key: Hashable, stamp: Hashable, compute: Callable[[], T], report: bool = True
    ) -> Future[Computed[Any]]:
        # Called with the lock held. A warm-up's failure is not shown to the next visitor
        # (their own count will meet it again if it persists).
        def run() -> Computed[Any]:
            started = time.perf_counter()
            try:
                result = Computed(compute(), self.clock())
                took = time.perf_counter() - started
                with self._lock:
                    if len(self._items) >= MAX_ENTRIES:
                        self._items.clear()
                    self._items[key] = _Entry(stamp, result, took)
                return result
            except Exception as exc:
                if report:
                    with self._lock:
                        self._failed[key] = exc
                raise
            finally:
                with self._lock:
                    self._running.pop(key, None)

        future = self._pool.submit(run)
        self._running[key] = future
        return future
