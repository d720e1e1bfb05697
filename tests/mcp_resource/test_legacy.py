"""The handshake era (2025-11-25 and older): initialize, sessions bound to their owner, cancellation."""

from __future__ import annotations

import json
import threading
import time

import pytest
from flask.testing import FlaskClient

from tests.factories import sign, valid_claims

ACCEPT = "application/json, text/event-stream"
ALL_SCOPES = "posts:read posts:write conformance:run"


@pytest.fixture
def http(mcp_app) -> FlaskClient:
    return mcp_app.test_client()


@pytest.fixture
def token(settings, auth_context) -> str:
    return sign(valid_claims(settings, scope=ALL_SCOPES, sub="person-1", client_id="client-1"))


def post(http: FlaskClient, token: str, body: dict, session: str | None = None, **headers: str):
    all_headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": ACCEPT, **headers}
    if session:
        all_headers["Mcp-Session-Id"] = session
    return http.post("/mcp", data=json.dumps(body), headers=all_headers)


def initialize(http: FlaskClient, token: str, version: str = "2025-11-25"):
    params = {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
    return post(http, token, {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params})


@pytest.fixture
def session(http, token) -> str:
    return initialize(http, token).headers["Mcp-Session-Id"]


@pytest.mark.parametrize(("offered", "answered"), [("2025-06-18", "2025-06-18"), ("2025-03-26", "2025-03-26"), ("1999-01-01", "2025-11-25")])
def test_initialize_negotiates_the_version_and_starts_a_session(http, token, offered, answered):
    response = initialize(http, token, offered)

    result = response.json["result"]
    assert result["protocolVersion"] == answered
    assert result["capabilities"]["tools"] == {"listChanged": True}
    assert result["serverInfo"]["name"] == "drawbridge"
    session_id = response.headers["Mcp-Session-Id"]
    assert len(session_id) >= 43 and all(0x21 <= ord(c) <= 0x7E for c in session_id)


def test_two_sessions_never_share_an_id(http, token):
    assert initialize(http, token).headers["Mcp-Session-Id"] != initialize(http, token).headers["Mcp-Session-Id"]


def test_requests_in_a_session_work(http, token, session):
    listed = post(http, token, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, session)
    pinged = post(http, token, {"jsonrpc": "2.0", "id": 2, "method": "ping"}, session)

    assert "list_posts" in {t["name"] for t in listed.json["result"]["tools"]}
    assert "resultType" not in listed.json["result"]
    assert pinged.json == {"jsonrpc": "2.0", "id": 2, "result": {}}


@pytest.mark.parametrize(
    "body",
    [
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}},
        {"jsonrpc": "2.0", "id": 5, "result": {}},
    ],
    ids=["initialized", "cancelled", "client-response"],
)
def test_notifications_and_responses_are_accepted_without_a_body(http, token, session, body):
    response = post(http, token, body, session)

    assert response.status_code == 202
    assert response.data == b""


def test_a_request_without_a_session_id_is_400(http, token):
    response = post(http, token, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"})

    assert response.status_code == 400
    assert "Mcp-Session-Id" in response.json["error"]["message"]


def test_an_unknown_session_is_404(http, token):
    response = post(http, token, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, "made-up-session")

    assert response.status_code == 404


def test_a_session_used_with_another_clients_token_is_refused(http, token, session, settings):
    """A session id is not authentication: it is bound to the token's client and subject."""
    for other in (
        sign(valid_claims(settings, scope=ALL_SCOPES, sub="person-1", client_id="client-2")),
        sign(valid_claims(settings, scope=ALL_SCOPES, sub="person-2", client_id="client-1")),
    ):
        response = post(http, other, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, session)

        assert response.status_code == 404


def test_delete_ends_the_session(http, token, session):
    ended = http.delete("/mcp", headers={"Authorization": f"Bearer {token}", "Mcp-Session-Id": session})
    after = post(http, token, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, session)

    assert ended.status_code == 204
    assert after.status_code == 404


def test_an_unsupported_version_header_is_400(http, token, session):
    response = post(http, token, {"jsonrpc": "2.0", "id": 1, "method": "ping"}, session, **{"MCP-Protocol-Version": "1999-01-01"})

    assert response.status_code == 400


def test_progress_streams_in_the_legacy_era_too(http, token, session):
    params = {"name": "test_tool_with_progress", "arguments": {"steps": 2, "step_seconds": 0}, "_meta": {"progressToken": "t"}}

    response = post(http, token, {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": params}, session)

    lines = [json.loads(x[6:]) for x in response.get_data(as_text=True).splitlines() if x.startswith("data: ")]
    assert [m["params"]["progress"] for m in lines[:-1]] == [0, 50, 100]
    assert lines[-1]["result"]["isError"] is False


def test_notifications_cancelled_stops_a_running_call(http, token, session):
    params = {"name": "test_tool_with_progress", "arguments": {"steps": 40, "step_seconds": 0.05}, "_meta": {"progressToken": "t"}}
    answers: list = []
    call = threading.Thread(
        target=lambda: answers.append(post(http, token, {"jsonrpc": "2.0", "id": 77, "method": "tools/call", "params": params}, session))
    )
    call.start()
    time.sleep(0.3)

    cancelled = post(http, token, {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 77}}, session)
    call.join(timeout=5)

    assert cancelled.status_code == 202
    assert not call.is_alive()  # stopped long before its 2 seconds of work
    body = answers[0].get_data(as_text=True)
    assert '"id":77' not in body  # a cancelled request gets no response


def test_a_dropped_stream_does_not_cancel_in_the_legacy_era(http, token, session):
    params = {"name": "test_tool_with_progress", "arguments": {"steps": 6, "step_seconds": 0.05}, "_meta": {"progressToken": "t"}}
    body = {"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": params}
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": ACCEPT, "Mcp-Session-Id": session}
    response = http.post("/mcp", data=json.dumps(body), headers=headers, buffered=False)
    next(iter(response.response))
    response.close()

    running = [t for t in threading.enumerate() if t.name == "mcp-request-8"]
    assert running, "the work goes on after the client left"
    running[0].join(timeout=5)
    assert not running[0].is_alive()
