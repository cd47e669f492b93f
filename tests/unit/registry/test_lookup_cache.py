"""The registry's lookup cache: an entry holds only for the generation it was read under."""

from __future__ import annotations

from tidegate.registry.lookup_cache import LookupCache


def test_an_entry_is_served_only_at_its_generation() -> None:
    cache = LookupCache()
    cache.put("tag", 5, "digest-a")
    assert cache.get("tag", 5) == "digest-a"
    assert cache.get("tag", 6) is None  # a change committed since: read again


def test_a_newer_generation_drops_everything_older() -> None:
    cache = LookupCache()
    cache.put("a", 1, "x")
    cache.put("b", 2, "y")
    assert cache.get("a", 2) is None
    assert cache.get("b", 2) == "y"


def test_a_value_read_before_a_change_is_not_kept_after_it() -> None:
    cache = LookupCache()
    cache.put("tag", 7, "new")
    cache.put("tag", 6, "old")  # a slow reader that started before generation 7
    assert cache.get("tag", 7) == "new"


def test_bounded_in_entries_and_bytes() -> None:
    cache = LookupCache(max_entries=2, max_bytes=100)
    cache.put("a", 1, "x", 10)
    cache.put("b", 1, "y", 10)
    cache.put("c", 1, "z", 10)  # over the entry bound: starts again
    assert cache.get("a", 1) is None
    assert cache.get("c", 1) == "z"
    cache.put("big", 1, "w", 101)
    assert cache.get("big", 1) is None
