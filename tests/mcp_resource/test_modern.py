"""The 2026-07-28 era: per-request envelope and headers, discover, result envelope, progress, cancel."""

from __future__ import annotations

import base64
import json
import threading
import time

import pytest
from flask.testing import FlaskClient

from tests.factories import sign, valid_claims
from tests.mcp_http import modern_body, modern_headers

ALL_SCOPES = "posts:read posts:write conformance:run"


@pytest.fixture
def http(mcp_app) -> FlaskClient:
    return mcp_app.test_client()


@pytest.fixture
def token(settings, auth_context) -> str:
    return sign(valid_claims(settings, scope=ALL_SCOPES))


def send(http: FlaskClient, token: str, body: dict, **header_changes: str | None):
    headers = {**modern_headers(body, token), **header_changes}
    return http.post("/mcp", data=json.dumps(body), headers={k: v for k, v in headers.items() if v is not None})


def sse_messages(response) -> list[dict]:
    return [json.loads(line[len("data: "):]) for line in response.get_data(as_text=True).splitlines() if line.startswith("data: ")]


def test_discover_names_versions_capabilities_and_cache_hints(http, token):
    response = send(http, token, modern_body("server/discover"))

    assert response.status_code == 200
    result = response.json["result"]
    assert result["supportedVersions"] == ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]
    assert result["capabilities"]["tools"] == {"listChanged": True}
    assert result["resultType"] == "complete"
    assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "drawbridge"
    assert result["ttlMs"] >= 0 and result["cacheScope"] == "public"


def test_tools_list_is_private_to_the_token(http, token):
    result = send(http, token, modern_body("tools/list")).json["result"]

    assert result["cacheScope"] == "private"
    assert result["resultType"] == "complete"
    assert {"list_posts", "test_tool_with_progress"} <= {t["name"] for t in result["tools"]}


def test_tools_call_result_carries_the_envelope(http, token):
    body = modern_body("tools/call", {"name": "test_simple_text", "arguments": {}})

    result = send(http, token, body).json["result"]

    assert result["content"] == [{"type": "text", "text": "This is a simple text response for testing."}]
    assert result["isError"] is False
    assert result["resultType"] == "complete"
    assert "io.modelcontextprotocol/serverInfo" in result["_meta"]


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({}, "protocolVersion"),
        ({"io.modelcontextprotocol/protocolVersion": "2026-07-28"}, "clientCapabilities"),
    ],
    ids=["no-version", "no-capabilities"],
)
def test_a_request_without_its_envelope_is_400_invalid_params(http, token, meta, message):
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": meta}}

    response = send(http, token, body)

    assert response.status_code == 400
    assert response.json["error"]["code"] == -32602
    assert message in response.json["error"]["message"]


@pytest.mark.parametrize(
    ("changes", "method"),
    [
        ({"MCP-Protocol-Version": "2025-11-25"}, "tools/list"),
        ({"MCP-Protocol-Version": None}, "tools/list"),
        ({"Mcp-Method": "tools/call"}, "tools/list"),
        ({"Mcp-Method": None}, "tools/list"),
        ({"Mcp-Name": "get_post"}, "tools/call"),
        ({"Mcp-Name": None}, "tools/call"),
        ({"Mcp-Name": "=?base64?not-base64!?="}, "tools/call"),
    ],
    ids=["version-differs", "version-missing", "method-differs", "method-missing", "name-differs", "name-missing", "name-bad-base64"],
)
def test_headers_that_disagree_with_the_body_are_400_header_mismatch(http, token, changes, method):
    body = modern_body(method, {"name": "list_posts", "arguments": {}} if method == "tools/call" else {})

    response = send(http, token, body, **changes)

    assert response.status_code == 400
    assert response.json["error"]["code"] == -32020


def test_a_base64_encoded_name_header_is_decoded(http, token):
    body = modern_body("tools/call", {"name": "test_simple_text", "arguments": {}})
    encoded = "=?base64?" + base64.b64encode(b"test_simple_text").decode() + "?="

    response = send(http, token, body, **{"Mcp-Name": encoded})

    assert response.status_code == 200


def test_an_unsupported_version_is_400_naming_the_supported_ones(http, token):
    body = modern_body("tools/list")
    body["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = "2099-01-01"

    response = send(http, token, body, **{"MCP-Protocol-Version": "2099-01-01"})

    assert response.status_code == 400
    error = response.json["error"]
    assert error["code"] == -32022
    assert error["data"]["requested"] == "2099-01-01"
    assert "2026-07-28" in error["data"]["supported"]


@pytest.mark.parametrize("method", ["ping", "initialize", "logging/setLevel", "no/such"])
def test_methods_this_era_lacks_are_404_method_not_found(http, token, method):
    response = send(http, token, modern_body(method))

    assert response.status_code == 404
    assert response.json["error"]["code"] == -32601


def test_an_invalid_cursor_is_invalid_params(http, token):
    response = send(http, token, modern_body("tools/list", {"cursor": "bm90LWEtY3Vyc29y"}))

    assert response.json["error"]["code"] == -32602


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_get_and_delete_are_405_for_modern_clients(http, token, method):
    response = http.open("/mcp", method=method, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 405


def test_a_modern_request_gets_no_session_id(http, token):
    response = send(http, token, modern_body("tools/list"))

    assert "Mcp-Session-Id" not in response.headers


def test_progress_arrives_on_the_requests_own_stream_then_the_result(http, token):
    params = {"name": "test_tool_with_progress", "arguments": {"steps": 4, "step_seconds": 0}, "_meta": {"progressToken": "p-1"}}

    response = send(http, token, modern_body("tools/call", params, message_id=9))

    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["X-Accel-Buffering"] == "no"
    messages = sse_messages(response)
    progress = [m["params"] for m in messages[:-1]]
    assert [p["progress"] for p in progress] == [0, 25, 50, 75, 100]
    assert {p["progressToken"] for p in progress} == {"p-1"}
    assert messages[-1]["id"] == 9
    assert messages[-1]["result"]["content"][0]["text"] == "Progress tool finished after 4 steps."


def test_without_a_progress_token_the_answer_is_plain_json(http, token):
    params = {"name": "test_tool_with_progress", "arguments": {"steps": 2, "step_seconds": 0}}

    response = send(http, token, modern_body("tools/call", params))

    assert response.mimetype == "application/json"
    assert response.json["result"]["isError"] is False


def test_closing_the_stream_cancels_the_work(mcp_app, http, token):
    """2026-07-28: closing the SSE response is the cancellation; the server stops the work."""
    steps_done: list[float] = []
    params = {"name": "test_tool_with_progress", "arguments": {"steps": 50, "step_seconds": 0.05}, "_meta": {"progressToken": 1}}
    body = modern_body("tools/call", params)
    response = http.post("/mcp", data=json.dumps(body), headers=modern_headers(body, token), buffered=False)
    stream = response.response
    for chunk in stream:  # read the first progress event, then hang up
        if b"notifications/progress" in chunk:
            steps_done.append(1)
            break
    response.close()
    time.sleep(0.3)
    running = [t.name for t in threading.enumerate() if t.name.startswith("mcp-request-")]

    assert steps_done
    assert running == []
