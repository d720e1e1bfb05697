"""The official MCP SDK client in each era against the live server: it lists and reads resources,
gets prompts and completes their arguments, hears the refusals of what its token may not see, and
receives the log messages it asked for."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError
from mcp.types import LoggingMessageNotificationParams, PromptReference, ResourceTemplateReference

from tests.factories import fetch_token, make_client

pytestmark = pytest.mark.usefixtures("live_services")

MODES = [("auto", "2026-07-28"), ("legacy", "2025-11-25")]


def connect(settings, token: str, mode: str) -> Client:
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    return Client(streamable_http_client(settings.resource_url, http_client=http), mode=mode)


def token_for(settings, scope: str) -> str:
    return fetch_token(settings, make_client(scope=scope))


@pytest.mark.parametrize(("mode", "era"), MODES)
def test_sdk_lists_reads_gets_and_completes(settings, auth_context, mode, era):
    token = token_for(settings, "posts:read posts:write")

    async def session() -> dict[str, Any]:
        async with connect(settings, token, mode) as client:
            return {
                "version": client.protocol_version,
                "resources": [r.uri for r in (await client.list_resources()).resources],
                "templates": [t.uri_template for t in (await client.list_resource_templates()).resource_templates],
                "post": (await client.read_resource("drawbridge://posts/1")).contents[0],
                "prompts": [p.name for p in (await client.list_prompts()).prompts],
                "prompt": await client.get_prompt("summarize_post", {"post_id": "1"}),
                "tones": await client.complete(PromptReference(type="ref/prompt", name="draft_post"), {"name": "tone", "value": "f"}),
                "ids": await client.complete(
                    ResourceTemplateReference(type="ref/resource", uri="drawbridge://posts/{id}"), {"name": "id", "value": "1"}
                ),
            }

    seen = asyncio.run(session())

    assert seen["version"] == era
    assert seen["resources"] == ["drawbridge://posts"]  # products:read is not granted
    assert seen["templates"] == ["drawbridge://posts/{id}"]
    assert seen["post"].mime_type == "application/json" and json.loads(seen["post"].text)["id"] == 1
    assert seen["prompts"] == ["draft_post", "summarize_post"]
    assert [m.content.type for m in seen["prompt"].messages] == ["resource", "text"]
    assert seen["tones"].completion.values == ["friendly", "formal"]
    assert "1" in seen["ids"].completion.values


@pytest.mark.parametrize(("mode", "code"), [("auto", -32602), ("legacy", -32002)])
def test_sdk_hears_resource_not_found_in_its_eras_code(settings, auth_context, mode, code):
    token = token_for(settings, "posts:read")

    async def read() -> MCPError:
        async with connect(settings, token, mode) as client:
            with pytest.raises(MCPError) as raised:
                await client.read_resource("drawbridge://posts/99999999")
            return raised.value

    error = asyncio.run(read())

    assert error.code == code
    assert error.error.data == {"uri": "drawbridge://posts/99999999"}


@pytest.mark.parametrize(("mode", "era"), MODES)
def test_sdk_cannot_complete_what_its_token_does_not_see(settings, auth_context, mode, era):
    token = token_for(settings, "posts:read")

    async def complete() -> MCPError:
        async with connect(settings, token, mode) as client:
            with pytest.raises(MCPError) as raised:
                await client.complete(ResourceTemplateReference(type="ref/resource", uri="drawbridge://products/{id}"), {"name": "id", "value": ""})
            return raised.value

    assert asyncio.run(complete()).code == -32602


@pytest.mark.filterwarnings("ignore:The logging capability is deprecated")  # deprecated in 2026-07-28, not before
@pytest.mark.parametrize(("mode", "level"), [("legacy", None), ("auto", "info"), ("sse", None)], ids=["2025-11-25", "2026-07-28", "2024-11-05"])
def test_sdk_receives_the_log_messages_it_asked_for(settings, auth_context, mode, level):
    """MCP logging: after logging/setLevel (the handshake eras, the 2024-11-05 pair too), or with a
    request's `_meta` level (2026-07-28), a tool's messages reach the client at that level."""
    token = token_for(settings, "conformance:run")
    received: list[LoggingMessageNotificationParams] = []

    async def on_log(params: LoggingMessageNotificationParams) -> None:
        received.append(params)

    async def session() -> str:
        if mode == "sse":
            transport: Any = sse_client(f"{settings.resource_url.rsplit('/', 1)[0]}/sse", headers={"Authorization": f"Bearer {token}"})
        else:
            transport = streamable_http_client(settings.resource_url, http_client=create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}))
        async with Client(transport, mode="legacy" if mode == "sse" else mode, logging_callback=on_log, log_level=level) as client:
            if level is None:
                await client.set_logging_level("info")
            result = await client.call_tool("test_tool_with_logging", {})
            return result.content[0].text

    assert asyncio.run(session()) == "Logging tool finished."
    assert [(m.level, m.data) for m in received] == [
        ("info", "Tool execution started"), ("info", "Tool processing data"), ("info", "Tool execution completed"),
    ]
