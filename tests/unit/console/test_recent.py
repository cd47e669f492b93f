"""The console's count cache: exact while counts are quick, the previous counts (marked) while
a slow recount runs off the request, a "counting" None the first time, errors shown once."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from tidegate.console.recent import Recent


@pytest.fixture
def recent() -> Iterator[Recent]:
    cache = Recent(wait=0.2)
    yield cache
    cache.close()


def test_quick_counts_are_exact_and_kept_while_the_stamp_holds(recent: Recent) -> None:
    calls: list[int] = []

    def count() -> int:
        calls.append(1)
        return len(calls)

    first = recent.get("k", 1, count)
    assert first is not None
    assert first.value == 1
    assert not first.cached
    assert not first.stale
    again = recent.get("k", 1, count)
    assert again is not None
    assert again.value == 1
    assert again.cached
    moved = recent.get("k", 2, count)
    assert moved is not None
    assert moved.value == 2
    assert not moved.stale
    assert len(calls) == 2


def test_a_slow_count_runs_off_the_request_and_the_old_counts_are_marked(recent: Recent) -> None:
    release = threading.Event()

    def slow() -> str:
        release.wait(10)
        return "new"

    assert recent.get("k", 1, lambda: "old") is not None
    shown = recent.get("k", 2, slow)
    assert shown is not None
    assert (shown.value, shown.stale, shown.recounting) == ("old", True, True)
    release.set()
    for _ in range(50):  # the worker stores the new count as soon as it finishes
        done = recent.get("k", 2, slow)
        if done is not None and not done.stale:
            break
        threading.Event().wait(0.05)
    assert done is not None
    assert done.value == "new"


def test_nothing_counted_yet_is_none_and_a_warm_up_fills_it(recent: Recent) -> None:
    release = threading.Event()
    assert recent.get("cold", 1, lambda: release.wait(10)) is None
    release.set()
    recent.warm("warm", lambda: 7, lambda: "warmed")
    for _ in range(50):
        got = recent.get("warm", 7, lambda: "counted on the request")
        if got is not None and got.cached:
            break
        threading.Event().wait(0.05)
    assert got is not None
    assert got.value == "warmed"


def test_a_failing_count_is_shown_once_even_when_it_fails_after_the_wait(recent: Recent) -> None:
    release = threading.Event()

    def failing() -> int:
        release.wait(10)
        raise RuntimeError("database gone")

    with pytest.raises(ZeroDivisionError):
        recent.get("quick", 1, lambda: 1 // 0)
    assert recent.get("quick", 1, lambda: 3) is not None  # shown once, then counted again
    assert recent.get("slow", 1, failing) is None
    release.set()
    threading.Event().wait(0.3)
    with pytest.raises(RuntimeError, match="database gone"):
        recent.get("slow", 1, lambda: 1)
    again = recent.get("slow", 1, lambda: 5)
    assert again is not None
    assert again.value == 5
