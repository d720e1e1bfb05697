"""Per-process copies refreshed by one caller at a time (shared/cache.py)."""

from __future__ import annotations

import threading
import time

from shared import cache
from tests.staleness import Clock


class Source:
    """A loader that counts its reads and answers from a dict."""

    def __init__(self, values: dict[str, int]) -> None:
        self.values = values
        self.reads: list[str] = []

    def __call__(self, key: str) -> int | None:
        self.reads.append(key)
        return self.values.get(key)


def test_a_value_is_read_once_until_it_is_stale(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(cache, "time", clock)
    source = Source({"a": 1})
    values = cache.RefreshingCache(source, max_age_seconds=5)

    assert [values.get("a") for _ in range(3)] == [1, 1, 1]
    source.values["a"] = 2
    clock.now += 6

    assert values.get("a") == 2
    assert source.reads == ["a", "a"]


def test_a_key_that_is_found_nowhere_is_read_again_every_time():
    source = Source({})
    values = cache.RefreshingCache(source, max_age_seconds=5)

    assert values.get("missing") is None
    assert values.get("missing") is None
    assert source.reads == ["missing", "missing"]


def test_a_full_cache_starts_over():
    source = Source({str(n): n for n in range(5)})
    values = cache.RefreshingCache(source, max_age_seconds=5, max_entries=3)
    for n in range(5):
        values.get(str(n))

    values.get("4")  # kept: read after the cache started over
    values.get("0")  # dropped when it started over

    assert source.reads == ["0", "1", "2", "3", "4", "0"]


def test_callers_arriving_during_the_first_read_of_a_key_wait_for_it():
    """A burst for a key not held yet costs one read, not one per caller."""
    source = Source({"a": 1})

    def slow_read(key: str) -> int | None:
        time.sleep(0.2)  # the others arrive meanwhile
        return source(key)

    values = cache.RefreshingCache(slow_read, max_age_seconds=5)
    results: list[int | None] = []
    callers = [threading.Thread(target=lambda: results.append(values.get("a"))) for _ in range(10)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()

    assert (source.reads, results) == (["a"], [1] * 10)
