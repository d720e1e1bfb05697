"""Growing waits on Redis and in process: one interface, same answers."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from authserver.backoff import BackoffPolicy, LocalBackoff, RedisBackoff

POLICY = BackoffPolicy(free_failures=2, first_wait_seconds=1, max_wait_seconds=4, forget_after_seconds=60)


@pytest.fixture(params=["redis", "local"])
def backoff(request, redis_client):
    return RedisBackoff(redis_client, POLICY, "test") if request.param == "redis" else LocalBackoff(POLICY)


def fail(backoff, key: str, times: int) -> list[int]:
    answers = []
    for _ in range(times):
        answers.append(backoff.attempt(key))
        backoff.failed(key)
    return answers


def test_waits_double_after_the_free_failures_up_to_the_cap():
    assert [POLICY.wait_seconds(n) for n in range(7)] == [0, 0, 1, 2, 4, 4, 4]


def test_the_free_failures_go_through_and_the_next_attempt_waits(backoff):
    assert fail(backoff, "a", 2) == [0, 0]
    assert backoff.attempt("a") == 1
    assert backoff.attempt("b") == 0


def test_a_waiting_attempt_is_not_counted(backoff):
    fail(backoff, "a", 2)
    waits = [backoff.attempt("a") for _ in range(5)]
    deadline = time.monotonic() + 5
    while backoff.attempt("a") and time.monotonic() < deadline:
        time.sleep(0.05)
    backoff.failed("a")

    assert waits == [1] * 5
    assert backoff.attempt("a") == 2


def test_parallel_attempts_go_through_one_at_a_time_once_waits_begin(backoff):
    fail(backoff, "a", 1)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: backoff.attempt("a"), range(8)))

    assert answers.count(0) == 1


def test_clear_and_forgive(backoff):
    fail(backoff, "a", 3)
    backoff.clear("a")
    fail(backoff, "b", 2)
    backoff.forgive("b")

    assert backoff.attempt("a") == 0
    assert backoff.attempt("b") == 0
