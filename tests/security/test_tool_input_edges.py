"""Issue #18, tool input at its edges: what an inputSchema admits is refused precisely, never crashes a tool."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from flask import Flask

from shared.settings import Settings
from tests.factories import fetch_token, make_client
from tests.mcp_http import ACCEPT, modern_body, modern_headers

SCOPES = "posts:read posts:write orders:write customers:read reports:run"
LEGACY = "2025-11-25"
INT64_MAX = 2**63 - 1
ONE_LINE = [{"product_id": 1, "quantity": 1}]


@pytest.fixture(scope="module")
def token(settings: Settings, auth_app: Flask, live_services) -> str:
    with auth_app.app_context():
        return fetch_token(settings, make_client(scope=SCOPES, rate_limit=1_000_000))


def post(url: str, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
    # json.dumps escapes to ASCII, so a lone surrogate goes on the wire as the `\\ud800` a client may send.
    return httpx.post(url, content=json.dumps(body), headers=headers, timeout=10)


def call_modern(url: str, token: str, name: str, arguments: dict[str, Any]) -> httpx.Response:
    body = modern_body("tools/call", {"name": name, "arguments": arguments})
    return post(url, body, modern_headers(body, token))


def call_legacy(url: str, token: str, name: str, arguments: dict[str, Any]) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": ACCEPT}
    initialize = {"protocolVersion": LEGACY, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
    started = post(url, {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": initialize}, headers)
    headers |= {"Mcp-Session-Id": started.headers["Mcp-Session-Id"], "MCP-Protocol-Version": LEGACY}
    params = {"name": name, "arguments": arguments}
    return post(url, {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}, headers)


@pytest.mark.parametrize("call", [call_modern, call_legacy], ids=["2026-07-28", "2025-11-25"])
@pytest.mark.parametrize(
    ("tool", "arguments", "field"),
    [
        ("get_post", {"post_id": INT64_MAX + 1}, "post_id"),
        ("get_post", {"post_id": int("9" * 400)}, "post_id"),
        ("create_order", {"customer_id": 99999999999999999999, "lines": ONE_LINE}, "customer_id"),
        ("create_order", {"customer_id": 1, "lines": [{"product_id": INT64_MAX + 1, "quantity": 1}]}, "lines.0.product_id"),
        ("list_customers", {"city": "\ud800"}, "city"),
        ("list_customers", {"city": "\x00%"}, "city"),
        ("check_job_status", {"job_id": "\udfff"}, "job_id"),
        ("check_job_status", {"job_id": "\x00"}, "job_id"),
        ("create_post", {"title": "a\ud800", "body": "b"}, "title"),
    ],
    ids=[
        "post-id-2^63", "post-id-400-digits", "customer-id-20-digits", "nested-past-int64",
        "lone-high-surrogate", "nul-and-wildcard", "lone-low-surrogate", "nul", "surrogate-in-title",
    ],
)
def test_schema_valid_edge_arguments_are_invalid_arguments_not_a_crash(live_services, token, call, tool, arguments, field):
    """MCP 2025-11-25 and 2026-07-28, Tools, Error Handling: tool execution errors include "Invalid
    input data" and "Input validation errors"; "Clients SHOULD provide tool execution errors to
    language models to enable self-correction", so they are "Reported in tool results with
    isError: true". The database stores signed 64-bit integers, and text without NUL or an unpaired
    surrogate (RFC 8259 §8.2: such strings "cannot encode Unicode characters"); anything else is
    refused as the argument it is, not left to fail in the database as "Internal error"."""
    answer = call(f"{live_services.mcp.url}/mcp", token, tool, arguments)

    assert answer.status_code == 200
    result = answer.json()["result"]
    text = result["content"][0]["text"]
    assert result["isError"] is True
    assert text.startswith(f"Invalid arguments for {tool}: {field}: ")
    assert "Internal error" not in answer.text


def test_tools_list_publishes_the_integer_range_the_database_holds(live_services, token):
    """JSON Schema 2020-12 Validation §6.2.2, §6.2.4: "maximum" and "minimum" bound a number; the
    inputSchema shows the model the signed 64-bit range it will be held to, with any narrower
    bound the tool declares (post_id: at least 1)."""
    body = modern_body("tools/list")
    tools = post(f"{live_services.mcp.url}/mcp", body, modern_headers(body, token)).json()["result"]["tools"]

    post_id = next(t for t in tools if t["name"] == "get_post")["inputSchema"]["properties"]["post_id"]
    assert (post_id["minimum"], post_id["maximum"]) == (1, INT64_MAX)


@pytest.mark.parametrize("method", ["tasks/get", "tasks/cancel", "tasks/update"])
@pytest.mark.parametrize(
    "task_id", ["\ud800", "\udfff", "\x00", "a\x00b"], ids=["lone-high-surrogate", "lone-low-surrogate", "nul", "nul-inside"]
)
def test_unstorable_task_ids_are_unknown_task_ids(live_services, token, method, task_id):
    """JSON-RPC 2.0 §5.1: -32602 "Invalid params: Invalid method parameter(s)". The tasks extension
    (io.modelcontextprotocol/tasks, 2026-07-28) answers a taskId the caller does not own with
    -32602, and a string no task can have (a NUL, an unpaired surrogate: RFC 8259 §8.2) is one of
    those, not an HTTP 500 with -32603."""
    tasks = {"io.modelcontextprotocol/clientCapabilities": {"extensions": {"io.modelcontextprotocol/tasks": {}}}}
    body = modern_body(method, {"taskId": task_id, "_meta": tasks})
    answer = post(f"{live_services.mcp.url}/mcp", body, modern_headers(body, token))

    error = answer.json()["error"]
    assert answer.status_code != 500
    assert error["code"] == -32602
    assert error["message"] == "Unknown taskId: tasks are visible only to the client that created them."
