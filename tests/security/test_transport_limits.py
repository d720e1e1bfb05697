"""Issue #18, transport limits: the Host check (DNS rebinding), open streams and live sessions per
client, and JSON nested too deeply to parse, on both services."""

from __future__ import annotations

import httpx
import pytest
from flask import Flask

import authserver
import mcp_resource
from shared.settings import Settings
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
