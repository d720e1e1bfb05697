"""Issue #18, transport limits: the Host check (DNS rebinding), open streams and live sessions per
client, and JSON nested too deeply to parse, on both services."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

import authserver
import mcp_resource
from shared.settings import Settings
from tests.factories import fetch_token, make_client, sign, valid_claims
from tests.mcp_http import modern_body, modern_headers

ACCEPT = "application/json, text/event-stream"
DEEP = 200_000  # the nesting the review sent
AUTH_DEEP = 30_000  # as deep as fits the authorization server's 64 KiB body limit
JUST_TOO_DEEP = 65  # one level past the limit: Python's parser alone would accept it
PRODUCTION = {
    "DRAWBRIDGE_ENV": "production",
    "DRAWBRIDGE_SECRET_KEY": "a-test-secret-that-is-not-the-development-default",
    "DRAWBRIDGE_ISSUER": "https://auth.example.com",
    "DRAWBRIDGE_RESOURCE_URL": "https://mcp.example.com/mcp",
    "DRAWBRIDGE_JWKS_URL": "http://authserver:8000/jwks",
    "DRAWBRIDGE_TRUSTED_PROXY_COUNT": "1",  # as docker-compose.yml runs them, behind nginx
    "DRAWBRIDGE_KEY_ENCRYPTION_KEYS": secrets.token_urlsafe(32),
}


def app_settings(live_services, **overrides: str) -> Settings:
    """The live services' settings with some variables changed, read as production reads them."""
    return Settings.from_env({**live_services.env, **overrides})


@pytest.fixture(scope="module")
def production_mcp(live_services) -> Flask:
    return mcp_resource.create_app(app_settings(live_services, **PRODUCTION))


@pytest.fixture(scope="module")
def production_auth(live_services) -> Flask:
    return authserver.create_app(app_settings(live_services, **PRODUCTION))


@pytest.fixture(scope="module")
def capped(live_services) -> dict[str, Flask]:
    """MCP servers with two streams and two sessions per client: two workers sharing Redis, and
    one on the embedded default's in-process stand-ins. Keep-alives (and so leases) are short."""
    caps = {"DRAWBRIDGE_MAX_STREAMS_PER_CLIENT": "2", "DRAWBRIDGE_MAX_SESSIONS_PER_CLIENT": "2", "DRAWBRIDGE_SSE_KEEPALIVE_SECONDS": "1"}
    redis_url = live_services.env["REDIS_URL"]
    return {
        "redis": mcp_resource.create_app(app_settings(live_services, REDIS_URL=redis_url, **caps)),
        "redis, another worker": mcp_resource.create_app(app_settings(live_services, REDIS_URL=redis_url, **caps)),
        "in-process": mcp_resource.create_app(app_settings(live_services, REDIS_URL="", **caps)),
    }


def caller_token(settings: Settings) -> str:
    """A token of a client and person of its own, so no two tests share a cap."""
    return sign(valid_claims(settings, sub=f"person-{secrets.token_hex(4)}", scope="posts:read"))


def open_sse(http: FlaskClient, token: str) -> TestResponse:
    return http.get("/sse", headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}, buffered=False)


def open_listen(http: FlaskClient, token: str) -> TestResponse:
    """A 2026-07-28 subscriptions/listen stream: no session, only the stream."""
    body = modern_body("subscriptions/listen", {"notifications": {"toolsListChanged": True}})
    return http.post("/mcp", data=json.dumps(body), headers=modern_headers(body, token), buffered=False)


def first_event(stream: TestResponse) -> str:
    chunk = next(iter(stream.response))
    return chunk.decode() if isinstance(chunk, bytes) else chunk


def assert_too_many(response: TestResponse) -> None:
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert response.json["error"]["code"] == -31429


@pytest.fixture
def closing() -> Iterator[list[TestResponse]]:
    """Streams a test opened, closed at its end whatever happened."""
    opened: list[TestResponse] = []
    yield opened
    for response in opened:
        response.close()


# --- Host check --------------------------------------------------------------------------------


def test_the_live_mcp_server_refuses_a_rebound_host_before_anything_else(live_services):
    """MCP 2025-11-25, Basic / Transports, Streamable HTTP, "Security Warning": "Servers MUST
    validate the Origin header on all incoming connections to prevent DNS rebinding attacks ...
    Without these protections, attackers could use DNS rebinding to interact with local MCP servers
    from remote websites." A rebound page sends no foreign Origin (it is same-origin to itself), but
    its Host is the attacker's name. RFC 9110 section 15.5.20: "The 421 (Misdirected Request) status
    code indicates that the request was directed at a server that is unable or unwilling to produce
    an authoritative response for the target URI." Refused before authentication: no token needed."""
    body = modern_body("tools/list")

    response = httpx.post(f"{live_services.mcp.url}/mcp", json=body, headers={**modern_headers(body), "Host": "evil.example"}, timeout=10)

    assert response.status_code == 421
    assert response.json()["error"]["code"] == -31421
    assert "evil.example" not in response.text  # nothing the attacker chose is echoed
    assert "WWW-Authenticate" not in response.headers


@pytest.mark.parametrize(
    ("method", "path", "host", "status"),
    [
        ("POST", "/mcp", "evil.example", 421),
        ("GET", "/sse", "evil.example:8001", 421),
        ("GET", "/.well-known/oauth-protected-resource/mcp", "evil.example", 421),
        ("POST", "/mcp", "127.0.0.1:8001", 421),  # loopback is a development convenience only
        ("POST", "/mcp", "[::1]:8001", 421),
        ("POST", "/mcp", "localhost", 421),
        ("POST", "/mcp", "MCP.Example.COM", 401),  # host names are case-insensitive: on to authentication
        ("POST", "/mcp", "mcp.example.com:443", 401),
        ("GET", "/healthz", "127.0.0.1:8001", 200),  # docker-compose's health check calls by address
    ],
)
def test_the_mcp_server_answers_only_for_its_public_host(production_mcp, method, path, host, status):
    """MCP 2025-11-25, Streamable HTTP, "Security Warning": "Servers MUST validate the Origin header
    on all incoming connections to prevent DNS rebinding attacks"; RFC 9110 section 7.4: a server
    that is not authoritative for the target URI answers 421 (Misdirected Request)."""
    response = production_mcp.test_client().open(path, method=method, headers={"Host": host, "Content-Type": "application/json"}, data="{}")

    assert response.status_code == status
    if status == 421:
        assert response.json["error"] == {"code": -31421, "message": "Misdirected request: this server does not answer for that host."}


@pytest.mark.parametrize(("forwarded_host", "status"), [("mcp.example.com", 401), ("evil.example", 421)])
def test_behind_a_trusted_proxy_the_host_it_was_asked_for_is_checked(production_mcp, forwarded_host, status):
    """With DRAWBRIDGE_TRUSTED_PROXY_COUNT=1 the proxy's X-Forwarded-Host is the request's host (the
    one URLs are built from), and it is what the Host check sees; deploy/proxy.conf sets it and Host
    to the client's own Host ($host). RFC 9110 section 7.4: a request for a host we are not
    authoritative for is 421 (Misdirected Request), whichever way it arrived."""
    # A proxy that does not pass Host through (nginx's default, $proxy_host) names the upstream.
    headers = {"Host": "mcp_resource:8001", "X-Forwarded-Host": forwarded_host, "X-Forwarded-Proto": "https", "X-Forwarded-Port": "443"}

    response = production_mcp.test_client().post("/mcp", headers=headers)

    assert response.status_code == status


@pytest.mark.parametrize(
    ("method", "path", "host", "accept", "status", "content_type"),
    [
        ("POST", "/token", "evil.example", "*/*", 400, "application/json"),
        ("POST", "/register", "evil.example", "application/json", 400, "application/json"),
        ("GET", "/.well-known/oauth-authorization-server", "127.0.0.1:8000", "*/*", 400, "application/json"),
        ("GET", "/authorize", "evil.example", "text/html,application/xhtml+xml,*/*;q=0.8", 400, "text/html"),
        ("GET", "/jwks", "authserver:8000", "*/*", 200, "application/json"),  # DRAWBRIDGE_JWKS_URL's host
        ("GET", "/jwks", "Auth.Example.com", "*/*", 200, "application/json"),
        ("GET", "/healthz", "127.0.0.1:8000", "*/*", 200, "application/json"),
    ],
)
def test_the_authorization_server_answers_only_for_its_public_hosts(production_auth, method, path, host, accept, status, content_type):
    """RFC 9112 section 3.2: "A server MUST respond with a 400 (Bad Request) status code to any
    HTTP/1.1 request message that lacks a Host header field and to any request message that contains
    more than one Host header field line or a Host header field with an invalid field value." A
    Host naming another server is answered the same way (RFC 6749 section 5.2 `invalid_request` for
    machines, the error page for a person's browser), so a rebound page never reaches the endpoints."""
    response = production_auth.test_client().open(path, method=method, headers={"Host": host, "Accept": accept})

    assert response.status_code == status
    assert response.mimetype == content_type
    if status == 400 and content_type == "application/json":
        assert response.json["error"] == "invalid_request"
    if status == 400 and content_type == "text/html":
        assert "does not answer for that host" in response.text


# --- Streams and sessions per client ------------------------------------------------------------


@pytest.mark.parametrize("backend", ["redis", "in-process"])
def test_open_streams_per_client_are_capped(capped, auth_context, closing, backend):
    """MCP 2025-11-25, Basic / Security Best Practices: servers should guard against resource
    exhaustion; the review held 60 of 60 concurrent GET /sse streams on one token. With
    DRAWBRIDGE_MAX_STREAMS_PER_CLIENT=2 the third stream is refused as the rate limit refuses a call
    (429, Retry-After, -31429), and a stream closed gives its slot back."""
    app = capped[backend]
    http = app.test_client()
    token = caller_token(app.config["SETTINGS"])
    closing.extend(open_sse(http, token) for _ in range(2))
    assert [s.status_code for s in closing] == [200, 200]

    assert_too_many(open_sse(http, token))
    assert open_sse(http, caller_token(app.config["SETTINGS"])).status_code == 200  # another caller is not affected

    closing.pop(0).close()
    closing.append(open_sse(http, token))
    assert closing[-1].status_code == 200


def test_streams_are_counted_across_workers_and_a_dead_workers_slots_lapse(capped, auth_context, closing):
    """Two workers sharing Redis share one count; a worker killed with its streams open (here: the
    streams are never closed) holds their slots only for a lease of a few keep-alive intervals."""
    one, two = capped["redis"].test_client(), capped["redis, another worker"].test_client()
    token = caller_token(capped["redis"].config["SETTINGS"])
    closing.extend([open_listen(one, token), open_listen(two, token)])
    assert [s.status_code for s in closing] == [200, 200]

    assert_too_many(open_listen(one, token))

    deadline = time.monotonic() + 30
    while (retry := open_listen(two, token)).status_code == 429 and time.monotonic() < deadline:
        time.sleep(0.5)
    closing.append(retry)
    assert retry.status_code == 200


def initialize(http: FlaskClient, token: str) -> TestResponse:
    params = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": ACCEPT}
    return http.post("/mcp", data=json.dumps({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params}), headers=headers)


@pytest.mark.parametrize("backend", ["redis", "in-process"])
def test_live_sessions_per_client_are_capped(capped, auth_context, backend):
    """MCP 2025-11-25, Transports, Session Management: "The server MAY terminate the session at any
    time, after which it MUST respond to requests containing that session ID with HTTP 404 Not
    Found." Sessions are server state a client creates at will: with
    DRAWBRIDGE_MAX_SESSIONS_PER_CLIENT=2 a third initialize is refused (429, -31429) until one ends."""
    app = capped[backend]
    http = app.test_client()
    token = caller_token(app.config["SETTINGS"])
    first, second = initialize(http, token), initialize(http, token)
    assert (first.status_code, second.status_code) == (200, 200)

    assert_too_many(initialize(http, token))

    ended = http.delete("/mcp", headers={"Authorization": f"Bearer {token}", "Mcp-Session-Id": first.headers["Mcp-Session-Id"]})
    assert ended.status_code == 204
    assert initialize(http, token).status_code == 200


def test_a_legacy_session_lives_an_hour_idle_not_a_day(capped, auth_context, redis_client):
    """A session nobody uses is ended after an idle hour (the review found 24 h): a client that
    comes back gets 404 and, as Session Management requires, starts a new one."""
    app = capped["redis"]
    session_id = initialize(app.test_client(), caller_token(app.config["SETTINGS"])).headers["Mcp-Session-Id"]

    assert 0 < redis_client.ttl(f"drawbridge:session:{session_id}") <= 3600


def test_no_session_outlives_its_callers_count(capped, auth_context, redis_client):
    """The cap holds however long sessions are kept busy: a caller's list of session ids lapses a
    day after its last initialize, so every session ends after a day too (MCP 2025-11-25, Session
    Management: "The server MAY terminate the session at any time", then 404). Here two busy
    sessions are made a day old and their list lapses, as a day of pings would leave them."""
    app = capped["redis"]
    http = app.test_client()
    token = caller_token(app.config["SETTINGS"])
    sessions = [initialize(http, token).headers["Mcp-Session-Id"] for _ in range(2)]
    for session_id in sessions:
        key = f"drawbridge:session:{session_id}"
        record = json.loads(redis_client.get(key))
        redis_client.set(key, json.dumps({**record, "created_at": record["created_at"] - 86400 - 60}), keepttl=True)
    redis_client.delete(*redis_client.keys("drawbridge:sessions:*:" + record["subject"]))

    ping = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"})
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": ACCEPT, "MCP-Protocol-Version": "2025-11-25"}
    pings = [http.post("/mcp", data=ping, headers={**headers, "Mcp-Session-Id": session_id}) for session_id in sessions]

    assert [ping.status_code for ping in pings] == [404, 404]
    assert [initialize(http, token).status_code for _ in range(3)] == [200, 200, 429]


def test_an_sse_session_ends_when_its_stream_closes(capped, auth_context, redis_client):
    """MCP 2024-11-05, Transports, HTTP with SSE: the client "MUST" open the SSE connection and
    send its messages to the endpoint the server names; the session is that connection. Once the
    stream is closed its session is gone at once, not kept in Redis for a day: a message for it is
    404 and Redis holds no trace of it."""
    app = capped["redis"]
    http = app.test_client()
    token = caller_token(app.config["SETTINGS"])
    stream = open_sse(http, token)
    endpoint = first_event(stream).split("data: ", 1)[1].strip()
    session_id = endpoint.split("session_id=", 1)[1]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    ping = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert http.post(endpoint, data=ping, headers=headers).status_code == 202

    stream.close()

    assert http.post(endpoint, data=ping, headers=headers).status_code == 404
    assert not redis_client.exists(f"drawbridge:session:{session_id}")


# --- JSON nested too deeply ----------------------------------------------------------------------


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def rpc_with(params_value: str) -> bytes:
    return ('{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"deep":' + params_value + "}}").encode()


@pytest.mark.parametrize(
    "body",
    [nested(DEEP).encode(), rpc_with(nested(DEEP)), rpc_with(nested(JUST_TOO_DEEP))],
    ids=["bare", "in-params", "just-too-deep"],
)
def test_deeply_nested_json_on_mcp_is_a_parse_error(live_services, auth_context, body):
    """JSON-RPC 2.0 section 5.1: "-32700 Parse error: Invalid JSON was received by the server. An
    error occurred on the server while parsing the JSON text." RFC 8259 section 9: "An
    implementation may set limits on the maximum depth of nesting." The review's 200,000 nested
    arrays got a 500 from the live (gevent) server; anything nested past 64 levels is refused."""
    token = fetch_token(live_services.settings, make_client(scope="posts:read"))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": ACCEPT}

    response = httpx.post(f"{live_services.mcp.url}/mcp", content=body, headers=headers, timeout=30)

    assert response.status_code == 400
    assert response.json()["error"] == {"code": -32700, "message": "Parse error: the body is nested deeper than 64 levels."}


def test_deeply_nested_json_on_messages_is_a_parse_error(capped, auth_context, closing):
    """The 2024-11-05 POST /messages reads the same JSON-RPC as /mcp (JSON-RPC 2.0 section 5.1, -32700)."""
    app = capped["redis"]
    http = app.test_client()
    token = caller_token(app.config["SETTINGS"])
    closing.append(open_sse(http, token))
    endpoint = first_event(closing[0]).split("data: ", 1)[1].strip()

    response = http.post(endpoint, data=nested(DEEP), headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.json["error"] == {"code": -32700, "message": "Parse error: the body is nested deeper than 64 levels."}


REGISTRATION = {
    "client_name": "deep",
    "redirect_uris": ["http://127.0.0.1:33418/callback"],
    "token_endpoint_auth_method": "none",
}


@pytest.mark.parametrize("depth", [AUTH_DEEP, JUST_TOO_DEEP])
def test_deeply_nested_registration_metadata_is_invalid_client_metadata(live_services, depth):
    """RFC 7591 section 3.2.2: "invalid_client_metadata: The value of one of the client metadata
    fields is invalid and the server has rejected this request." The review's nested arrays got a
    500 from /register; RFC 7592 section 2.2 (PUT) reads the same document."""
    issuer = live_services.settings.issuer
    document = json.dumps(REGISTRATION)[:-1] + ', "contacts": ' + nested(depth) + "}"
    headers = {"Content-Type": "application/json"}
    registered = httpx.post(f"{issuer}/register", json=REGISTRATION, timeout=10).json()
    update = document.replace("{", '{"client_id": "' + registered["client_id"] + '", ', 1)

    created = httpx.post(f"{issuer}/register", content=document, headers=headers, timeout=30)
    replaced = httpx.put(
        registered["registration_client_uri"],
        content=update,
        headers={**headers, "Authorization": f"Bearer {registered['registration_access_token']}"},
        timeout=30,
    )

    for response in (created, replaced):
        assert response.status_code == 400
        assert response.json() == {"error": "invalid_client_metadata", "error_description": "The client metadata is nested deeper than 64 levels."}
