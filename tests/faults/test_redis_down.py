"""Redis stopped: refused tool calls keep their audit rows, logins wait rather than go unthrottled,
and disabling a client keeps its database change and says what is left to do (issue #19)."""

from __future__ import annotations

import time

import httpx

from authserver.cli.clients import disable
from authserver.cutoffs import CLIENT_CACHE_SECONDS
from tests.faults.outage import CALL, assert_jsonrpc_unavailable, assert_page_unavailable, token_request, warm_stack


def test_with_redis_down_refusals_are_audited_logins_wait_and_a_disable_is_kept(fault_stack):
    warm = warm_stack(fault_stack)
    endpoint = _sse_endpoint(fault_stack.mcp.url, warm.token)  # type: ignore[union-attr]
    fault_stack.redis.crash()

    assert_jsonrpc_unavailable(warm.modern("tools/call", CALL))
    assert_jsonrpc_unavailable(warm.legacy("tools/call", CALL))
    # 2024-11-05: the POST to the session's endpoint is refused, and audited, the same way.
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": CALL}
    assert_jsonrpc_unavailable(httpx.post(f"{fault_stack.mcp.url}{endpoint}", json=body, headers={"Authorization": f"Bearer {warm.token}"}, timeout=10))  # type: ignore[union-attr]
    rows = fault_stack.sql("SELECT tool, outcome, error, arguments, session_id FROM audit_records WHERE client_id = %s ORDER BY id", warm.machine.client_id)
    assert [(tool, outcome, arguments) for tool, outcome, _, arguments, _ in rows] == [("list_posts", "unavailable", None)] * 3
    assert all(error for _, _, error, _, _ in rows) and rows[2][4] == endpoint.rsplit("=", 1)[1]

    # The login throttle lives in Redis: without it a login is refused (503), never let through unthrottled.
    assert_page_unavailable(warm.login())

    result = fault_stack.app_context().test_cli_runner().invoke(disable, [warm.machine.client_id])
    assert result.exit_code == 1 and "Run `drawbridge clients disable" in result.output
    assert fault_stack.sql("SELECT disabled_at IS NOT NULL FROM oauth_clients WHERE client_id = %s", warm.machine.client_id) == [(True,)]
    time.sleep(CLIENT_CACHE_SECONDS)  # the token endpoint's copy of the client is that old at most
    assert token_request(fault_stack, warm.machine).status_code == 401  # no new tokens meanwhile

    fault_stack.redis.start()
    result = fault_stack.app_context().test_cli_runner().invoke(disable, [warm.machine.client_id])
    assert result.exit_code == 0, result.output
    assert fault_stack.redis.client().keys(f"drawbridge:revoked:client:{warm.machine.client_id}")


def _sse_endpoint(server_url: str, token: str) -> str:
    """The POST endpoint a 2024-11-05 GET /sse names in its first event (its session then ends)."""
    with httpx.stream("GET", f"{server_url}/sse", headers={"Authorization": f"Bearer {token}"}, timeout=10) as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                return line.removeprefix("data: ")
    raise AssertionError("GET /sse named no endpoint")
