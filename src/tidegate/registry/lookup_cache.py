"""Registry lookups kept in memory while the registry generation they were read under holds.

Every change to repositories, manifests, tags or blob links bumps one generation row in the
same transaction (`metadata.bump_generation`), in whichever process makes it. A reader reads
the generation first and then, on a miss, the rows: an entry is therefore never newer than
its generation claims, and once a change commits every process sees a new generation and
drops what it cached, so a pull after a push (or delete) returns never sees the old state.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable

DEFAULT_MAX_ENTRIES = 8192
DEFAULT_MAX_BYTES = 64 << 20


class LookupCache:
    """A thread-safe map valid for one generation at a time, bounded in entries and bytes."""

    def __init__(
        self, max_entries: int = DEFAULT_MAX_ENTRIES, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._generation = -1
        self._items: dict[Hashable, object] = {}
        self._bytes = 0

    def get(self, key: Hashable, generation: int) -> object | None:
        with self._lock:
            if generation != self._generation:
                return None
            return self._items.get(key)

    def put(self, key: Hashable, generation: int, value: object, size: int = 0) -> None:
        """Keep `value`, read under `generation`; a newer generation drops everything older."""
        with self._lock:
            if generation < self._generation:
                return  # read before a change another request has already seen
            if generation > self._generation:
                self._items.clear()
                self._bytes = 0
                self._generation = generation
            if len(self._items) >= self.max_entries or self._bytes + size > self.max_bytes:
                self._items.clear()
                self._bytes = 0
            if size > self.max_bytes:
                return
            self._items[key] = value
            self._bytes += size
