"""Attempt counters on Redis and in process: one interface, same answers."""

from __future__ import annotations

import time

import pytest

from authserver.throttle import LocalCounter, RedisCounter


@pytest.fixture(params=["redis", "local"])
def counter(request, redis_client):
    return RedisCounter(redis_client) if request.param == "redis" else LocalCounter()


def test_hits_are_counted_per_key(counter):
    assert [counter.hit("a", 60) for _ in range(3)] == [1, 2, 3]
    assert counter.hit("b", 60) == 1


def test_a_window_ends(counter):
    counter.hit("a", 1)
    time.sleep(1.1)

    assert counter.hit("a", 1) == 1
