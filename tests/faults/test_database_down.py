"""PostgreSQL stopped or frozen: every path that needs it answers 503 with Retry-After in its own
protocol's shape, within a bounded wait; the paths that do not need it keep answering (issue #19)."""

from __future__ import annotations

import time

from tests.faults.outage import (
    CALL,
    assert_jsonrpc_unavailable,
    assert_oauth_unavailable,
    assert_page_unavailable,
    initialize_params,
    metric,
    token_request,
    warm_stack,
)

TIMEOUT_SECONDS = 2  # DRAWBRIDGE_DATABASE_TIMEOUT_SECONDS of these stacks


def test_a_stopped_database_is_503_in_each_protocols_shape_and_tool_calls_are_counted(fault_stack):
    warm = warm_stack(fault_stack, DRAWBRIDGE_DATABASE_TIMEOUT_SECONDS=str(TIMEOUT_SECONDS))
    issuer = fault_stack.settings.issuer
    fault_stack.postgres.stop()
    time.sleep(1.1)  # the token endpoint's copy of the client is read again after 1 s

    assert_oauth_unavailable(token_request(fault_stack, warm.machine))
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
    assert metric(fault_stack, "drawbridge_unaudited_calls_total") == 2
    logged = fault_stack.mcp.log_path.read_text()  # type: ignore[union-attr]
    assert logged.count('"event": "tool_call_unaudited"') == 2 and warm.token not in logged


def test_a_frozen_database_is_503_after_a_bounded_wait(fault_stack):
    warm = warm_stack(fault_stack, DRAWBRIDGE_DATABASE_TIMEOUT_SECONDS=str(TIMEOUT_SECONDS))
    fault_stack.postgres.freeze()
    time.sleep(1.1)
    try:
        started = time.monotonic()
        assert_oauth_unavailable(token_request(fault_stack, warm.machine))
        assert_jsonrpc_unavailable(warm.modern("tools/call", CALL))
        assert time.monotonic() - started < 4 * TIMEOUT_SECONDS + 2
    finally:
        fault_stack.postgres.thaw()
    # Once it answers again, so do the services: the connections left behind were dropped.
    assert token_request(fault_stack, warm.machine).status_code == 200
    assert warm.modern("tools/call", CALL).status_code == 200
