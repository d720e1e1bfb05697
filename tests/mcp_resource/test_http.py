"""POST /mcp in the handshake era: envelopes, headers, methods and tool results over HTTP."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient

from tests.factories import sign, valid_claims

HEADERS = {"Accept": "application/json, text/event-stream"}


@pytest.fixture
def http(mcp_app) -> FlaskClient:
    return mcp_app.test_client()


@pytest.fixture
def token(settings, auth_context) -> str:
    return sign(valid_claims(settings, scope="posts:read posts:write"))


def post(http: FlaskClient, token: str, body, **headers: str):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    all_headers = {**HEADERS, "Authorization": f"Bearer {token}", "Content-Type": "application/json", **headers}
    return http.post("/mcp", data=data, headers=all_headers)


def call(http: FlaskClient, token: str, name: str, arguments) -> dict:
    body = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": name, "arguments": arguments}}
    response = post(http, token, body)
    assert response.status_code == 200
    return response.json


def test_initialize_answers_with_the_clients_version_when_supported(http, token):
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}

    result = post(http, token, body).json["result"]

    assert result["protocolVersion"] == "2025-06-18"
    assert result["capabilities"]["tools"] == {"listChanged": False}
    assert result["serverInfo"]["name"] == "drawbridge"


def test_initialize_offers_our_newest_version_for_one_we_do_not_speak(http, token):
    body = {"jsonrpc": "2.0", "id": "a", "method": "initialize", "params": {"protocolVersion": "1999-01-01", "capabilities": {}}}

    response = post(http, token, body)

    assert response.json["id"] == "a"
    assert response.json["result"]["protocolVersion"] == "2025-11-25"


def test_ping_returns_an_empty_result(http, token):
    response = post(http, token, {"jsonrpc": "2.0", "id": 2, "method": "ping"})

    assert response.json == {"jsonrpc": "2.0", "id": 2, "result": {}}


@pytest.mark.parametrize(
    "body",
    [
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}},
        {"jsonrpc": "2.0", "id": 5, "result": {}},
    ],
    ids=["initialized", "cancelled", "client-response"],
)
def test_notifications_and_responses_are_accepted_without_a_body(http, token, body):
    response = post(http, token, body)

    assert response.status_code == 202
    assert response.data == b""


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, -32700),
        (b"\xff\xfe", 400, -32700),
        ([{"jsonrpc": "2.0", "id": 1, "method": "ping"}], 400, -32600),
        ({"id": 1, "method": "ping"}, 400, -32600),
        ({"jsonrpc": "1.0", "id": 1, "method": "ping"}, 400, -32600),
        ({"jsonrpc": "2.0", "id": None, "method": "ping"}, 400, -32600),
        ({"jsonrpc": "2.0", "id": 1.5, "method": "ping"}, 400, -32600),
        ({"jsonrpc": "2.0", "id": True, "method": "ping"}, 400, -32600),
        ({"jsonrpc": "2.0", "id": 1, "method": 3}, 400, -32600),
        ({"jsonrpc": "2.0", "id": 1}, 400, -32600),
        ({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": [1]}, 200, -32602),
        ({"jsonrpc": "2.0", "id": 1, "method": "resources/list"}, 200, -32601),
    ],
    ids=[
        "not-json",
        "not-utf8",
        "batch",
        "no-jsonrpc",
        "wrong-jsonrpc",
        "null-id",
        "float-id",
        "bool-id",
        "method-not-string",
        "no-method",
        "params-not-object",
        "unknown-method",
    ],
)
def test_malformed_messages_get_precise_json_rpc_errors(http, token, body, status, code):
    response = post(http, token, body)

    assert response.status_code == status
    assert response.json["jsonrpc"] == "2.0"
    assert response.json["error"]["code"] == code
    assert "Traceback" not in response.get_data(as_text=True)


def test_errors_carry_the_request_id_when_it_is_known(http, token):
    response = post(http, token, {"jsonrpc": "2.0", "id": "x-1", "method": "nope"})

    assert response.json["id"] == "x-1"


def test_a_modern_protocol_version_is_refused_naming_the_supported_ones(http, token):
    """A server that does not speak the requested version answers -32022 with data.supported."""
    response = post(http, token, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, **{"MCP-Protocol-Version": "2026-07-28"})

    assert response.status_code == 400
    error = response.json["error"]
    assert error["code"] == -32022
    assert error["data"] == {"supported": ["2025-11-25", "2025-06-18", "2025-03-26"], "requested": "2026-07-28"}


def test_a_supported_protocol_version_header_is_accepted(http, token):
    response = post(http, token, {"jsonrpc": "2.0", "id": 1, "method": "ping"}, **{"MCP-Protocol-Version": "2025-06-18"})

    assert response.status_code == 200


def test_wrong_content_type_is_refused(http, token):
    response = post(http, token, {"jsonrpc": "2.0", "id": 1, "method": "ping"}, **{"Content-Type": "text/plain"})

    assert response.status_code == 400
    assert response.json["error"]["code"] == -32600


def test_a_client_that_accepts_no_json_is_refused(http, token):
    response = post(http, token, {"jsonrpc": "2.0", "id": 1, "method": "ping"}, Accept="text/html")

    assert response.status_code == 400
    assert "Accept" in response.json["error"]["message"]


def test_oversized_bodies_are_refused_with_413(http, token):
    huge = {"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"pad": "x" * (2 * 1024 * 1024)}}

    response = post(http, token, huge)

    assert response.status_code == 413
    assert response.json["error"]["code"] == -32600


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_no_standalone_stream_and_no_sessions(http, token, method):
    response = http.open("/mcp", method=method, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"


def test_tool_result_for_a_missing_post_tells_the_model_what_to_do(http, token):
    result = call(http, token, "get_post", {"post_id": 999999})["result"]

    assert result["isError"] is True
    assert result["content"][0]["text"] == "No post with id 999999; call list_posts to find ids."


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({}, "post_id: Missing data for required field."),
        ({"post_id": "abc"}, "post_id: Not a valid integer."),
        ({"post_id": 0}, "post_id: Must be greater than or equal to 1."),
        ({"post_id": 1, "extra": True}, "extra: Unknown field."),
    ],
    ids=["missing", "not-a-number", "out-of-range", "unknown-field"],
)
def test_invalid_arguments_are_tool_errors_the_model_can_read(http, token, arguments, expected):
    result = call(http, token, "get_post", arguments)["result"]

    assert result["isError"] is True
    assert expected in result["content"][0]["text"]


def test_blank_title_is_refused(http, token):
    result = call(http, token, "create_post", {"title": "   ", "body": "b"})["result"]

    assert result["isError"] is True
    assert "title: The title must not be blank." in result["content"][0]["text"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"name": "no_such_tool", "arguments": {}}, "Unknown tool: no_such_tool"),
        ({"arguments": {}}, '"name" must be'),
        ({"name": "get_post", "arguments": [1]}, '"arguments" must be an object'),
    ],
    ids=["unknown-tool", "no-name", "arguments-not-object"],
)
def test_bad_tool_calls_are_invalid_params(http, token, params, message):
    response = post(http, token, {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": params})

    assert response.json["error"]["code"] == -32602
    assert message in response.json["error"]["message"]


def test_tools_list_describes_inputs_as_json_schema(http, token):
    response = post(http, token, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"})

    tools = {t["name"]: t for t in response.json["result"]["tools"]}
    schema = tools["get_post"]["inputSchema"]
    assert schema["type"] == "object"
    assert schema["properties"]["post_id"]["type"] == "integer"
    assert schema["properties"]["post_id"]["minimum"] == 1
    assert schema["required"] == ["post_id"]
    assert schema["additionalProperties"] is False
    assert tools["list_posts"]["annotations"]["readOnlyHint"] is True
    assert tools["create_post"]["annotations"]["readOnlyHint"] is False


def test_request_id_is_echoed(http, token):
    response = post(http, token, {"jsonrpc": "2.0", "id": 1, "method": "ping"}, **{"X-Request-Id": "trace-42"})

    assert response.headers["X-Request-Id"] == "trace-42"


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer    ", "token abc"])
def test_malformed_authorization_headers_are_invalid_tokens(http, header):
    response = http.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers={**HEADERS, "Authorization": header})

    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
