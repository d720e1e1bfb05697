"""PostgreSQL stopped or frozen: every path that needs it answers 503 with Retry-After in its own
protocol's shape, within a bounded wait; the paths that do not need it keep answering (issue #19)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.faults.conftest import FaultStack
from tests.faults.outage import (
    CALL,
    Warm,
    assert_jsonrpc_unavailable,
    assert_oauth_unavailable,
    assert_page_unavailable,
    initialize_params,
    metric,
    token_request,
    warm_stack,
)

TIMEOUT_SECONDS = 2  # DRAWBRIDGE_DATABASE_TIMEOUT_SECONDS of this module's stack
UNAUDITED = '"event": "tool_call_unaudited"'


@pytest.fixture(scope="module")
def warm(module_stack: FaultStack) -> Warm:
    """Both tests on one stack: after each, the cluster answers again (thawed, started)."""
    return warm_stack(module_stack, DRAWBRIDGE_DATABASE_TIMEOUT_SECONDS=str(TIMEOUT_SECONDS))


@pytest.fixture(autouse=True)
def answering_again(module_stack: FaultStack) -> Iterator[None]:
    yield
    module_stack.postgres.leave_running()


def test_a_stopped_database_is_503_in_each_protocols_shape_and_tool_calls_are_counted(warm):
    stack = warm.stack
    issuer = stack.settings.issuer
    unaudited = metric(stack, "drawbridge_unaudited_calls_total")
    logged_before = len(stack.mcp.log_path.read_text())  # type: ignore[union-attr]
    stack.postgres.stop()
    time.sleep(1.1)  # the token endpoint's copy of the client is read again after 1 s

    assert_oauth_unavailable(token_request(stack, warm.machine))
    assert_oauth_unavailable(warm.person.http.post(f"{issuer}/register", json={"redirect_uris": ["http://127.0.0.1:9/cb"]}, headers={"Accept": "application/json"}))
    assert_page_unavailable(warm.person.http.get(f"{issuer}/authorize", params={"client_id": "any", "response_type": "code"}))
    assert_page_unavailable(warm.login())

    assert_jsonrpc_unavailable(warm.modern("tools/call", CALL))
    assert_jsonrpc_unavailable(warm.legacy("tools/call", CALL))
    # Nothing in these needs the database: they keep working.
    assert warm.modern("tools/list").status_code == 200
    assert warm.legacy("tools/list", {}).status_code == 200
    assert warm.legacy("initialize", initialize_params()).status_code == 200
    assert warm.person.http.get(f"{issuer}/login").status_code == 200

    # Refused calls whose audit row could not be written are counted and logged instead.
    assert metric(stack, "drawbridge_unaudited_calls_total") - unaudited == 2
    logged = stack.mcp.log_path.read_text()[logged_before:]  # type: ignore[union-attr]
    assert logged.count(UNAUDITED) == 2 and warm.token not in logged


def test_a_frozen_database_is_503_after_a_bounded_wait(warm):
    stack = warm.stack
    stack.postgres.freeze()
    time.sleep(1.1)
    try:
        started = time.monotonic()
        with ThreadPoolExecutor() as pool:  # each waits its own bound: side by side, not one after the other
            token = pool.submit(token_request, stack, warm.machine)
            call = pool.submit(warm.modern, "tools/call", CALL)
            assert_oauth_unavailable(token.result())
            assert_jsonrpc_unavailable(call.result())
        assert time.monotonic() - started < 4 * TIMEOUT_SECONDS + 2
    finally:
        stack.postgres.thaw()
    # Once it answers again, so do the services: the connections left behind were dropped.
    assert token_request(stack, warm.machine).status_code == 200
    assert warm.modern("tools/call", CALL).status_code == 200
