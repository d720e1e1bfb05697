"""A client's limit as both services agree on it: the database's record, the copy in Redis, and one
lookup per client at a time in each process."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import event

from shared import cache, policy
from shared.db import db
from tests.factories import make_client
from tests.staleness import Clock


def test_a_clients_own_limit_is_read_from_the_database(auth_context):
    client_id = make_client(rate_limit=7).client.client_id
    policies = policy.ClientPolicies(default_rate_limit_per_minute=120)

    assert (policies.own_limit(client_id), policies.rate_limit_per_minute(client_id)) == (7, 7)
    assert (policies.own_limit("no-such-client"), policies.rate_limit_per_minute("no-such-client")) == (None, 120)


def test_callers_arriving_during_a_lookup_wait_for_its_result_instead_of_querying(auth_app):
    """A burst from a client not yet known must cost one query and one connection, not one per call."""
    with auth_app.app_context():
        client_id = make_client(rate_limit=7).client.client_id
    policies = policy.ClientPolicies(default_rate_limit_per_minute=120)
    queries: list[str] = []
    results: list[int | None] = []

    def slow_lookup(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM oauth_clients" in statement:
            queries.append(statement)
            time.sleep(0.3)  # the others arrive meanwhile

    def call() -> None:
        with auth_app.app_context():
            results.append(policies.own_limit(client_id))

    with auth_app.app_context():
        event.listen(db.engine, "before_cursor_execute", slow_lookup)
        try:
            callers = [threading.Thread(target=call) for _ in range(10)]
            for caller in callers:
                caller.start()
            for caller in callers:
                caller.join()
        finally:
            event.remove(db.engine, "before_cursor_execute", slow_lookup)

    assert (len(queries), results) == (1, [7] * 10)


def test_the_in_process_copy_is_read_again_after_a_few_seconds(auth_context, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(cache, "time", clock)
    policies = policy.ClientPolicies(default_rate_limit_per_minute=120)
    client = make_client(rate_limit=7)
    client_id = client.client.client_id
    assert policies.rate_limit_per_minute(client_id) == 7
    client.client.rate_limit_per_minute = 9
    db.session.commit()

    assert policies.rate_limit_per_minute(client_id) == 7
    clock.now += policy.CACHE_SECONDS
    assert policies.rate_limit_per_minute(client_id) == 9


def test_while_a_stale_limit_is_read_again_the_other_calls_keep_the_old_one(auth_app, monkeypatch):
    """The in-process limiter never makes a call wait on a database read to apply a known limit."""
    clock = Clock()
    monkeypatch.setattr(cache, "time", clock)
    policies = policy.ClientPolicies(default_rate_limit_per_minute=120)
    with auth_app.app_context():
        client = make_client(rate_limit=7)
        client_id = client.client.client_id
        assert policies.rate_limit_per_minute(client_id) == 7
        client.client.rate_limit_per_minute = 9
        db.session.commit()
    clock.now += policy.CACHE_SECONDS
    reading = threading.Event()
    refreshed: list[int] = []

    def slow_lookup(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM oauth_clients" in statement:
            reading.set()
            time.sleep(0.5)

    def refresh() -> None:
        with auth_app.app_context():
            refreshed.append(policies.rate_limit_per_minute(client_id))

    with auth_app.app_context():
        event.listen(db.engine, "before_cursor_execute", slow_lookup)
        try:
            refresher = threading.Thread(target=refresh)
            refresher.start()
            assert reading.wait(timeout=2)
            started = time.monotonic()
            meanwhile = policies.rate_limit_per_minute(client_id)
            waited = time.monotonic() - started
            refresher.join()
        finally:
            event.remove(db.engine, "before_cursor_execute", slow_lookup)

    assert (meanwhile, waited < 0.25, refreshed) == (7, True, [9])


def test_the_redis_copy_holds_the_limit_or_the_default_marker(redis_client):
    policy.publish_limit(redis_client, "a", 7)
    policy.publish_limit(redis_client, "b", None)
    policy.publish_limit(None, "c", 7)  # the embedded default: nothing to write

    assert redis_client.mget([policy.limit_key("a"), policy.limit_key("b")]) == [b"7", b"0"]
    policy.forget_limit(redis_client, "a")
    assert redis_client.get(policy.limit_key("a")) is None
