"""POST /mcp, whatever the era: envelopes, content negotiation, limits and tool results over HTTP."""

from __future__ import annotations

import json

import httpx
import pytest
from flask.testing import FlaskClient

from tests import live
from tests.factories import sign, valid_claims
from tests.mcp_http import modern_body, modern_headers

HEADERS = {"Accept": "application/json, text/event-stream"}


@pytest.fixture
def http(mcp_app) -> FlaskClient:
    return mcp_app.test_client()


@pytest.fixture
def token(settings, auth_context) -> str:
    return sign(valid_claims(settings, scope="posts:read posts:write"))


def post(http: FlaskClient, token: str, body, **headers: str):
    """A raw body, or a JSON-RPC message sent in the modern envelope with matching headers."""
    if isinstance(body, dict) and "method" in body and isinstance(body.get("params", {}), dict):
        body = modern_body(body["method"], body.get("params"), body.get("id", 1)) if "id" in body else body
        base = modern_headers(body, token) if "id" in body else {**HEADERS, "Content-Type": "application/json"}
    else:
        base = {**HEADERS, "Content-Type": "application/json"}
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return http.post("/mcp", data=data, headers={**base, "Authorization": f"Bearer {token}", **headers})


def call(http: FlaskClient, token: str, name: str, arguments) -> dict:
    body = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": name, "arguments": arguments}}
    response = post(http, token, body)
    assert response.status_code == 200
    return response.json


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
    ],
)
def test_malformed_messages_get_precise_json_rpc_errors(http, token, body, status, code):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = post(http, token, raw, **{"MCP-Protocol-Version": "2026-07-28"})

    assert response.status_code == status
    assert response.json["jsonrpc"] == "2.0"
    assert response.json["error"]["code"] == code
    assert "Traceback" not in response.get_data(as_text=True)


def test_errors_carry_the_request_id_when_it_is_known(http, token):
    response = post(http, token, {"jsonrpc": "2.0", "id": "x-1", "method": "nope"})

    assert response.json["id"] == "x-1"


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


@pytest.mark.parametrize(
    ("padding", "status", "code"),
    [(b"", 200, None), (b" " * (1024 * 1024), 413, -32600)],
    ids=["whole", "over-1-mib"],
)
def test_a_chunked_body_is_answered_or_over_1_mib_refused(live_services, token, padding, status, code):
    message = modern_body("tools/list", {}, 1)
    headers = {**modern_headers(message, token), "Authorization": f"Bearer {token}"}
    body = json.dumps(message).encode() + padding
    pieces = iter([body[: len(body) // 2], body[len(body) // 2 :]])

    response = httpx.post(f"{live_services.mcp.url}/mcp", content=pieces, headers=headers, timeout=10)

    assert response.request.headers["Transfer-Encoding"] == "chunked"
    assert response.status_code == status
    if code is None:
        assert response.json()["result"]["tools"]
    else:
        assert response.json()["error"]["code"] == code


def test_a_body_with_malformed_chunks_is_an_invalid_request(live_services, token):
    message = modern_body("tools/list", {}, 1)
    headers = {**modern_headers(message, token), "Authorization": f"Bearer {token}", "Host": "127.0.0.1"}
    head = "POST /mcp HTTP/1.1\r\n" + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    # The rest of the broken body holds a request of its own, which must never be answered.
    smuggled = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    answer = live.exchange(live_services.mcp.url, head.encode() + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n" + smuggled + b"0\r\n\r\n")

    assert answer.startswith(b"HTTP/1.1 400 ")
    assert answer.count(b"HTTP/1.1 ") == 1
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["error"]["code"] == -32600


def test_tool_result_for_a_missing_post_tells_the_model_what_to_do(http, token):
    result = call(http, token, "get_post", {"post_id": 999999})["result"]

    assert result["isError"] is True
    assert result["content"][0]["text"] == "No post with id 999999; call list_posts to find ids."


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({}, "post_id: Missing data for required field."),
        ({"post_id": "abc"}, "post_id: Not a whole number; send a JSON integer such as 3."),
        ({"post_id": 1.5}, "post_id: Not a whole number; send a JSON integer such as 3."),
        ({"post_id": True}, "post_id: Not a whole number; send a JSON integer such as 3."),
        ({"post_id": 0}, "post_id: Must be greater than or equal to 1."),
        ({"post_id": 1, "extra": True}, "extra: Unknown field."),
    ],
    ids=["missing", "not-a-number", "fraction", "boolean", "out-of-range", "unknown-field"],
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


@pytest.mark.parametrize("origin", ["http://evil.example", "http://127.0.0.1.evil.example", "null"])
def test_a_foreign_origin_is_403_on_every_method(http, token, origin):
    """Streamable HTTP: servers MUST validate Origin; an invalid one gets 403 (DNS rebinding)."""
    for method in ("POST", "GET", "DELETE"):
        response = http.open("/mcp", method=method, data="{}", headers={"Origin": origin, "Authorization": f"Bearer {token}"})

        assert response.status_code == 403
        assert response.json["error"]["code"] == -31403
        assert "id" not in response.json


def test_our_own_origin_and_no_origin_are_let_in(http, token, settings):
    own = settings.resource_url.rsplit("/", 1)[0]

    assert post(http, token, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, Origin=own).status_code == 200
    assert post(http, token, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).status_code == 200
