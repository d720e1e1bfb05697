"""Issue #18, transport limits: the Host check (DNS rebinding), open streams and live sessions per
client, and JSON nested too deeply to parse, on both services."""

from __future__ import annotations

import json
import secrets
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


def capped_mcp(live_services, backend: str, **overrides: str) -> Flask:
    redis_url = live_services.env["REDIS_URL"] if backend == "redis" else ""
    return mcp_resource.create_app(app_settings(live_services, REDIS_URL=redis_url, **overrides))


def caller_token(settings: Settings) -> str:
    """A token of a client and person of its own, so no two tests share a cap."""
    return sign(valid_claims(settings, sub=f"person-{secrets.token_hex(4)}", scope="posts:read"))


def open_sse(http: FlaskClient, token: str) -> TestResponse:
    return http.get("/sse", headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}, buffered=False)


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


def test_deeply_nested_json_on_messages_is_a_parse_error(live_services, auth_context, closing):
    """The 2024-11-05 POST /messages reads the same JSON-RPC as /mcp (JSON-RPC 2.0 section 5.1, -32700)."""
    app = capped_mcp(live_services, "redis")
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
