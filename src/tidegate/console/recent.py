"""Registry-wide aggregates, kept until the findings change.

The dashboard and the grouped findings views read every open finding (a million rows on a
large registry take seconds). Each result is kept with the findings stamp it was computed
at (`overview.findings_stamp`: image, job and scan counts and their newest changes, read from
the narrow tables) and served again until the stamp moves, so results are
always exact; only the first view after a change pays for the computation.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
MAX_ENTRIES = 256


@dataclass(frozen=True, slots=True)
class Computed(Generic[T]):
    value: T
    at: float  # wall-clock time it was computed
    cached: bool = False


class Recent:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._items: dict[Hashable, tuple[Hashable, Computed[object]]] = {}

    def get(self, key: Hashable, stamp: Hashable, compute: Callable[[], T]) -> Computed[T]:
        with self._lock:
            hit = self._items.get(key)
        if hit is not None and hit[0] == stamp:
            found = hit[1]
            return Computed(found.value, found.at, cached=True)  # type: ignore[arg-type]
        result = Computed(compute(), self.clock())
        with self._lock:
            if len(self._items) >= MAX_ENTRIES:
                self._items.clear()
            self._items[key] = (stamp, result)  # type: ignore[assignment]
        return result
