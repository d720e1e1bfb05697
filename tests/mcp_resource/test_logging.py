"""Log messages: the handshake eras' logging/setLevel for a session's later calls, and 2026-07-28's
per-request `_meta` level, checked."""

from __future__ import annotations

import json

import pytest

from tests.factories import sign, valid_claims
from tests.mcp_http import LEGACY, MODERN, Speaker


def speaker(app, settings, version: str) -> Speaker:
    return Speaker(app.test_client(), sign(valid_claims(settings, scope="conformance:run")), version)


def messages(response) -> list[dict]:
    return [json.loads(line[6:]) for line in response.get_data(as_text=True).splitlines() if line.startswith("data: ")]


CALL = {"name": "test_tool_with_logging", "arguments": {}}


def test_a_sessions_level_brings_log_messages_to_its_later_calls(mcp_app, settings, auth_context):
    """MCP 2025-11-25 logging: after logging/setLevel the server sends notifications/message at
    that level or more severe."""
    legacy = speaker(mcp_app, settings, LEGACY)
    before = legacy.send("tools/call", CALL)

    assert legacy.result("logging/setLevel", {"level": "info"}) == {}
    after = messages(legacy.send("tools/call", CALL))

    assert before.mimetype == "application/json"  # no level set: no messages, no stream
    logged = [m["params"] for m in after if m.get("method") == "notifications/message"]
    assert [(p["level"], p["data"]) for p in logged] == [
        ("info", "Tool execution started"), ("info", "Tool processing data"), ("info", "Tool execution completed"),
    ]
    assert after[-1]["result"]["content"][0]["text"] == "Logging tool finished."


def test_a_more_severe_level_filters_the_messages_out(mcp_app, settings, auth_context):
    legacy = speaker(mcp_app, settings, LEGACY)
    legacy.result("logging/setLevel", {"level": "error"})

    answered = messages(legacy.send("tools/call", CALL))

    assert [m.get("method") for m in answered] == [None]  # only the result


@pytest.mark.parametrize("params", [{"level": "loud"}, {}], ids=["unknown", "missing"])
def test_an_unknown_level_is_invalid_params(mcp_app, settings, auth_context, params):
    response = speaker(mcp_app, settings, LEGACY).send("logging/setLevel", params)

    assert response.json["error"]["code"] == -32602
    assert '"level" must be one of debug, info' in response.json["error"]["message"]


def test_2026_has_no_set_level_and_checks_the_requests_own_level(mcp_app, settings, auth_context):
    """MCP 2026-07-28 logging: logging/setLevel is gone; an unrecognized `_meta` log level SHOULD be
    -32602."""
    modern = speaker(mcp_app, settings, MODERN)

    assert modern.send("logging/setLevel", {"level": "info"}).status_code == 404
    refused = modern.send("tools/call", {**CALL, "_meta": {"io.modelcontextprotocol/logLevel": "loud"}})
    asked = messages(modern.send("tools/call", {**CALL, "_meta": {"io.modelcontextprotocol/logLevel": "info"}}))

    assert refused.json["error"]["code"] == -32602
    assert len([m for m in asked if m.get("method") == "notifications/message"]) == 3
