"""A client's limits as both services agree on them: the deployment's defaults, the database's
record, the copy in Redis, and one lookup per client at a time in each process."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import event

from authserver.clients import set_rate_limit
from shared import cache, policy
from shared.db import db
from tests.factories import make_client
from tests.staleness import Clock

DEFAULTS = policy.Defaults(client=120, person=240)
# The policy reader takes a connection of its own (policy._read_limits), which sees only what is committed.
pytestmark = pytest.mark.usefixtures("commits")


def test_a_clients_own_limits_are_read_from_the_database(auth_context):
    client_id = make_client(rate_limit=7).client.client_id
    set_rate_limit(client_id, person=9, tools={"create_post": 3})
    policies = policy.ClientPolicies(DEFAULTS)

    assert policies.record(client_id) == policies.cached(client_id) == policy.ClientLimits(7, 9, {"create_post": 3})
    assert policies.record("no-such-client") == policies.cached("no-such-client") == policy.ClientLimits()


@pytest.mark.parametrize(
    ("read_only", "declared", "expected"),
    [(True, None, 0), (False, None, 30), (True, 5, 5), (False, 5, 5), (False, 60, 30)],
    ids=["read-only: none", "mutation", "declared", "declared and tighter", "declared looser: the setting"],
)
def test_a_tools_default_is_the_tightest_of_the_settings_and_its_declaration(read_only, declared, expected):
    assert policy.Defaults(client=120, person=240, mutation=30).for_tool(read_only, declared) == expected
    assert policy.Defaults(client=120, person=240, tool=10, mutation=30).for_tool(read_only, declared) == min(expected or 10, 10)


def test_callers_arriving_during_a_lookup_wait_for_its_result_instead_of_querying(auth_app):
    """A burst from a client not yet known must cost one query and one connection, not one per call."""
    with auth_app.app_context():
        client_id = make_client(rate_limit=7).client.client_id
    policies = policy.ClientPolicies(DEFAULTS)
    queries: list[str] = []
    results: list[int | None] = []

    def slow_lookup(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM oauth_clients" in statement:
            queries.append(statement)
            time.sleep(0.3)  # the others arrive meanwhile

    def call() -> None:
        with auth_app.app_context():
            results.append(policies.record(client_id).client)

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
    policies = policy.ClientPolicies(DEFAULTS)
    client = make_client(rate_limit=7)
    client_id = client.client.client_id
    assert policies.cached(client_id).client == 7
    client.client.rate_limit_per_minute = 9
    db.session.commit()

    assert policies.cached(client_id).client == 7
    clock.now += policy.CACHE_SECONDS
    assert policies.cached(client_id).client == 9


def test_while_a_stale_limit_is_read_again_the_other_calls_keep_the_old_one(auth_app, monkeypatch):
    """The in-process limiter never makes a call wait on a database read to apply a known limit."""
    clock = Clock()
    monkeypatch.setattr(cache, "time", clock)
    policies = policy.ClientPolicies(DEFAULTS)
    with auth_app.app_context():
        client = make_client(rate_limit=7)
        client_id = client.client.client_id
        assert policies.cached(client_id).client == 7
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
            refreshed.append(policies.cached(client_id).client)

    with auth_app.app_context():
        event.listen(db.engine, "before_cursor_execute", slow_lookup)
        try:
            refresher = threading.Thread(target=refresh)
            refresher.start()
            assert reading.wait(timeout=2)
            started = time.monotonic()
            meanwhile = policies.cached(client_id).client
            waited = time.monotonic() - started
            refresher.join()
        finally:
            event.remove(db.engine, "before_cursor_execute", slow_lookup)

    assert (meanwhile, waited < 0.25, refreshed) == (7, True, [9])


def test_the_redis_copy_holds_the_limits_or_the_default_marker(redis_client):
    policy.publish_limits(redis_client, "a", policy.ClientLimits(7, None, {"create_post": 3}))
    policy.publish_limits(redis_client, "b", policy.ClientLimits())
    policy.publish_limits(None, "c", policy.ClientLimits(7))  # the embedded default: nothing to write

    assert redis_client.hgetall(policy.limits_key("a")) == {b"client": b"7", b"person": b"0", b"tool:create_post": b"3"}
    assert redis_client.hgetall(policy.limits_key("b")) == {b"client": b"0", b"person": b"0"}
    policy.publish_limits(redis_client, "a", policy.ClientLimits(7))  # a tool's limit removed goes from the copy
    assert redis_client.hgetall(policy.limits_key("a")) == {b"client": b"7", b"person": b"0"}
    policy.forget_limits(redis_client, "a")
    assert redis_client.exists(policy.limits_key("a")) == 0
