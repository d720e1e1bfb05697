"""Helpers for the outage tests: a stack whose callers were served while its backends were up, and
what a 503 must look like in each protocol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests import factories
from tests.browser_forms import FormBrowser, csrf_token
from tests.faults.conftest import Credentials, FaultStack
from tests.mcp_http import rpc

LEGACY_VERSION = "2025-11-25"
METRICS_TOKEN = "fault-tests-metrics-token-0123456789"
BROWSER_ACCEPT = "text/html,application/xhtml+xml"
CALL = {"name": "list_posts", "arguments": {}}


@dataclass
class Warm:
    """Served before the outage: a token whose keys the MCP server holds, a legacy session, a
    person signed in, and a visitor holding the login form (with its CSRF token) to post."""

    stack: FaultStack
    machine: Credentials
    token: str
    session_id: str
    person: FormBrowser
    visitor: FormBrowser
    login_form: dict[str, str]

    def login(self) -> httpx.Response:
        return self.visitor.http.post(f"{self.stack.settings.issuer}/login", data=self.login_form)

    def legacy(self, method: str, params: dict[str, Any]) -> httpx.Response:
        return legacy(self.stack, self.token, method, params, self.session_id)

    def modern(self, method: str, params: dict[str, Any] | None = None) -> httpx.Response:
        return rpc(self.stack.settings.resource_url, self.token, method, params)


def warm_stack(stack: FaultStack, **env: str) -> Warm:
    stack.env.update({"DRAWBRIDGE_METRICS_TOKEN": METRICS_TOKEN, **env})
    stack.start()
    machine = stack.machine_client()
    with stack.app_context().app_context():
        email = factories.make_user().email
    token = stack.token(machine)
    assert rpc(stack.settings.resource_url, token, "tools/list").status_code == 200  # the JWKS is cached
    session_id = legacy(stack, token, "initialize", initialize_params()).headers["Mcp-Session-Id"]
    person, visitor = browser(email), browser(email)
    person.log_in(f"{stack.settings.issuer}/login")
    page = visitor.http.get(f"{stack.settings.issuer}/login")
    form = {"csrf_token": csrf_token(page.text), "email": email, "password": factories.PASSWORD, "next": "/"}
    return Warm(stack, machine, token, session_id, person, visitor, form)


def browser(email: str) -> FormBrowser:
    person = FormBrowser(email, factories.PASSWORD)
    person.http.headers["Accept"] = BROWSER_ACCEPT
    return person


def initialize_params() -> dict[str, Any]:
    return {"protocolVersion": LEGACY_VERSION, "capabilities": {}, "clientInfo": {"name": "fault-test", "version": "1"}}


def legacy(stack: FaultStack, token: str, method: str, params: dict[str, Any], session_id: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    if session_id is not None:
        headers.update({"Mcp-Session-Id": session_id, "MCP-Protocol-Version": LEGACY_VERSION})
    body = {"jsonrpc": "2.0", "id": 7, "method": method, "params": params}
    return httpx.post(stack.settings.resource_url, json=body, headers=headers, timeout=30)


def token_request(stack: FaultStack, client: Credentials) -> httpx.Response:
    data = {"grant_type": "client_credentials", "resource": stack.settings.resource_url}
    return httpx.post(f"{stack.settings.issuer}/token", data=data, auth=(client.client_id, client.client_secret), timeout=30)


def assert_oauth_unavailable(response: httpx.Response) -> None:
    """RFC 6749 4.1.2.1's temporarily_unavailable as a JSON error, with when to retry."""
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"] == "temporarily_unavailable"


def assert_page_unavailable(response: httpx.Response) -> None:
    """A person's browser gets our error page, never JSON or a traceback."""
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["Content-Type"].startswith("text/html")
    assert "Temporarily unavailable" in response.text and "Traceback" not in response.text


def assert_jsonrpc_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["jsonrpc"] == "2.0" and body["error"]["code"] == -32603 and "retry" in body["error"]["message"]


def metric(stack: FaultStack, name: str) -> float:
    """A counter's value on the MCP server's /metrics (0 when it has no sample yet)."""
    text = httpx.get(f"{stack.mcp.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10).text  # type: ignore[union-attr]
    values = [float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " ") or line.startswith(name + "{")]
    return sum(values)
