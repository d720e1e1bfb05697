"""The authorization server down while MCP workers restart (#19 item 6): a new worker verifies
tokens with the key set another worker stored in Redis, instead of refusing every call until the
authorization server is back."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.mcp_http import rpc

# A started worker waits jwks.FIRST_FETCH_WAIT_SECONDS for a fetch, then takes the stored set.
RECOVERY_BOUND_SECONDS = 2.0


def _workers(master_pid: int) -> list[int]:
    return [int(pid) for pid in Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()]


def _seconds_to_first_call(server_url: str, token: str) -> float:
    """Seconds from the worker's first answer (its start-up is not the keys' doing) to the first
    tools/call answered 200; every answer before it must be a 503 with Retry-After."""
    _wait_until_answering(server_url)
    started = time.monotonic()
    while time.monotonic() - started < 15:
        answer = rpc(f"{server_url}/mcp", token, "tools/call", {"name": "list_posts", "arguments": {}})
        if answer.status_code == 200:
            assert "result" in answer.json(), answer.text
            return time.monotonic() - started
        assert answer.status_code == 503 and answer.headers.get("Retry-After"), (answer.status_code, answer.text)
        time.sleep(0.05)
    raise AssertionError("no call succeeded within 15 s")


def _wait_until_answering(server_url: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{server_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError("the MCP server did not answer within 20 s")


def _signal_all(master_pid: int, signum: int) -> None:
    for pid in [master_pid, *_workers(master_pid)]:
        os.kill(pid, signum)


@pytest.mark.parametrize(
    ("outage", "restart"),
    [("crashed", "kill -9 of the worker"), ("frozen", "the whole server restarted")],
)
def test_a_restarted_worker_verifies_tokens_while_the_authorization_server_is_down(fault_stack, outage, restart):
    """Crashed: its port refuses connections. Frozen (SIGSTOP): connections open and hang, so the
    new worker's first fetch is still waiting when it takes the stored set."""
    fault_stack.start()
    auth, mcp = fault_stack.auth, fault_stack.mcp
    assert auth is not None and mcp is not None
    token = fault_stack.token(fault_stack.machine_client())
    assert rpc(f"{mcp.url}/mcp", token, "tools/call", {"name": "list_posts", "arguments": {}}).status_code == 200

    _signal_all(auth.process.pid, signal.SIGKILL if outage == "crashed" else signal.SIGSTOP)
    try:
        if restart == "kill -9 of the worker":
            [worker] = _workers(mcp.process.pid)
            os.kill(worker, signal.SIGKILL)  # gunicorn's master starts a new worker, no keys in memory
            time.sleep(0.1)
            assert _seconds_to_first_call(mcp.url, token) < RECOVERY_BOUND_SECONDS
            assert _workers(mcp.process.pid) != [worker]
        else:
            mcp.stop()
            fault_stack.mcp = None
            assert _seconds_to_first_call(fault_stack.start_mcp().url, token) < RECOVERY_BOUND_SECONDS
    finally:
        if outage == "frozen":
            _signal_all(auth.process.pid, signal.SIGCONT)
