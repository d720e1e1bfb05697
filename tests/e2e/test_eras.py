"""The official MCP SDK client in each era it speaks, against the live server: tools, progress,
and a subscription that hears a tool being switched on at run time."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from mcp_resource import tool_states
from tests.factories import fetch_token, make_client
from tests.mcp_http import modern_body, modern_headers

pytestmark = pytest.mark.usefixtures("live_services")

SCOPES = "posts:read posts:write conformance:run"


@pytest.fixture
def token(settings, auth_context) -> str:
    return fetch_token(settings, make_client(scope=SCOPES))


def connect(settings, token: str, mode: str) -> Client:
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    return Client(streamable_http_client(settings.resource_url, http_client=http), mode=mode)


@pytest.mark.parametrize(("mode", "era"), [("auto", "2026-07-28"), ("legacy", "2025-11-25")])
def test_sdk_lists_and_calls_tools_and_receives_progress(settings, token, mode, era):
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))

    async def session() -> tuple[str, set[str], str]:
        async with connect(settings, token, mode) as client:
            tools = await client.list_tools()
            result = await client.call_tool("test_tool_with_progress", {"steps": 3, "step_seconds": 0.05}, progress_callback=on_progress)
            return client.protocol_version, {t.name for t in tools.tools}, result.content[0].text

    version, names, text = asyncio.run(session())

    assert version == era
    assert {"list_posts", "test_tool_with_progress"} <= names
    assert text == "Progress tool finished after 3 steps."
    assert [p[0] for p in progress] == pytest.approx([0, 100 / 3, 200 / 3, 100])
    assert progress[-1][2] == "step 3 of 3"


def test_a_subscription_hears_a_tool_switched_on_at_run_time(settings, token, auth_context):
    tool_states.switch("test_simple_text", False)

    async def listen() -> tuple[bool, bool, bool]:
        async with connect(settings, token, "auto") as client:
            await asyncio.sleep(2.5)  # every worker notices the switch within its poll interval
            before = "test_simple_text" in {t.name for t in (await client.list_tools()).tools}
            async with client.listen(tools_list_changed=True) as subscription:
                honored = bool(subscription.honored.tools_list_changed)
                await asyncio.to_thread(tool_states.switch, "test_simple_text", True)
                event = await asyncio.wait_for(anext(aiter(subscription)), timeout=10)
            after = "test_simple_text" in {t.name for t in (await client.list_tools()).tools}
            return honored and event is not None, before, after

    try:
        heard, before, after = asyncio.run(listen())
    finally:
        tool_states.switch("test_simple_text", True)

    assert heard
    assert before is False
    assert after is True


def test_the_listen_stream_acknowledges_first_and_sends_only_what_was_asked(settings, token, auth_context):
    """Subscriptions: the first message is the acknowledgement; no types the client did not ask for."""
    body = modern_body("subscriptions/listen", {"notifications": {"promptsListChanged": True}}, message_id="l-1")
    with httpx.stream("POST", settings.resource_url, json=body, headers=modern_headers(body, token), timeout=10) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert stream.headers["x-accel-buffering"] == "no"
        tool_states.switch("test_simple_text", False)
        tool_states.switch("test_simple_text", True)
        lines, started = [], time.monotonic()
        for line in stream.iter_lines():  # keep-alives every second keep this loop moving
            lines.append(line)
            if time.monotonic() - started > 4.5:
                break

    messages = [json.loads(line[6:]) for line in lines if line.startswith("data: ")]
    assert messages[0]["method"] == "notifications/subscriptions/acknowledged"
    assert messages[0]["params"]["notifications"] == {}  # prompts are not offered, so nothing is honored
    assert messages[0]["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "l-1"
    assert len(messages) == 1  # the tool switch was not asked for, so it was not sent
    assert lines.count(": keep-alive") >= 3


def test_a_legacy_get_stream_hears_tool_changes(settings, token, auth_context):
    init = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}}}
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"}
    session = httpx.post(settings.resource_url, json=init, headers=headers, timeout=10).headers["Mcp-Session-Id"]
    stream_headers = {**headers, "Accept": "text/event-stream", "Mcp-Session-Id": session}
    with httpx.stream("GET", settings.resource_url, headers=stream_headers, timeout=10) as stream:
        tool_states.switch("test_simple_text", False)
        data = next(line for line in stream.iter_lines() if line.startswith("data: "))
    tool_states.switch("test_simple_text", True)

    assert json.loads(data[6:])["method"] == "notifications/tools/list_changed"


def test_last_event_id_replays_exactly_the_missed_events(settings, token):
    """2025-11-25 resumability: after a drop, GET with Last-Event-ID replays that stream only."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"}
    init = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}}}
    headers["Mcp-Session-Id"] = httpx.post(settings.resource_url, json=init, headers=headers, timeout=10).headers["Mcp-Session-Id"]
    params = {"name": "test_tool_with_progress", "arguments": {"steps": 6, "step_seconds": 0.2}, "_meta": {"progressToken": "r"}}
    call = {"jsonrpc": "2.0", "id": 41, "method": "tools/call", "params": params}

    seen: list[tuple[str, dict]] = []
    with httpx.stream("POST", settings.resource_url, json=call, headers=headers, timeout=10) as stream:
        event_id = None
        for line in stream.iter_lines():
            if line.startswith("id: "):
                event_id = line[4:]
            elif line.startswith("data: "):
                seen.append((event_id, json.loads(line[6:])))
                if len(seen) == 2:
                    break  # the connection drops here

    resumed: list[tuple[str, dict]] = []
    with httpx.stream("GET", settings.resource_url, headers={**headers, "Last-Event-ID": seen[-1][0]}, timeout=10) as stream:
        event_id = None
        for line in stream.iter_lines():
            if line.startswith("id: "):
                event_id = line[4:]
            elif line.startswith("data: "):
                resumed.append((event_id, json.loads(line[6:])))
                if "result" in resumed[-1][1]:
                    break

    assert [m["params"]["progress"] for _, m in seen] == pytest.approx([0, 100 / 6])
    assert [m["params"]["progress"] for _, m in resumed[:-1]] == pytest.approx([200 / 6, 300 / 6, 400 / 6, 500 / 6, 100])
    assert resumed[-1][1]["id"] == 41
    ids = [i for i, _ in seen + resumed]
    assert len(ids) == len(set(ids))


def test_a_stream_of_another_session_cannot_be_resumed(settings, token):
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"}
    init = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}}}
    headers["Mcp-Session-Id"] = httpx.post(settings.resource_url, json=init, headers=headers, timeout=10).headers["Mcp-Session-Id"]

    response = httpx.get(settings.resource_url, headers={**headers, "Last-Event-ID": "someone-elses-stream.3"}, timeout=10)

    assert response.status_code == 400


def test_the_oldest_clients_use_the_2024_sse_pair(settings, token):
    """2024-11-05 HTTP+SSE: GET /sse names the endpoint; POSTed requests are answered on the stream."""
    base = settings.resource_url.rsplit("/", 1)[0]
    progress: list[float] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)

    async def session() -> tuple[str, str]:
        transport = sse_client(f"{base}/sse", headers={"Authorization": f"Bearer {token}"})
        async with Client(transport, mode="legacy") as client:
            result = await client.call_tool("test_tool_with_progress", {"steps": 2, "step_seconds": 0}, progress_callback=on_progress)
            return client.protocol_version, result.content[0].text

    version, text = asyncio.run(session())

    assert version == "2025-11-25"
    assert text == "Progress tool finished after 2 steps."
    assert progress == [0, 50, 100]


def test_messages_for_another_callers_sse_session_are_refused(settings, token, auth_context):
    base = settings.resource_url.rsplit("/", 1)[0]
    other = fetch_token(settings, make_client(scope=SCOPES))
    # The stream stays open: its session ends when it closes.
    with httpx.stream("GET", f"{base}/sse", headers={"Authorization": f"Bearer {token}"}, timeout=10) as stream:
        endpoint = next(line for line in stream.iter_lines() if line.startswith("data: "))[6:]
        ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
        response = httpx.post(f"{base}{endpoint}", json=ping, headers={"Authorization": f"Bearer {other}"}, timeout=10)

    assert response.status_code == 404
