"""Plain-HTTP MCP requests for tests: the modern (2026-07-28) envelope with its headers, and a
speaker of either era over a Flask test client."""

from __future__ import annotations

import json
from typing import Any

import httpx
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

MODERN = "2026-07-28"
LEGACY = "2025-11-25"
ACCEPT = "application/json, text/event-stream"
# The methods whose target the Mcp-Name header mirrors, and the params key it mirrors.
NAME_BEARING = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}


def modern_body(method: str, params: dict[str, Any] | None = None, message_id: int | str = 1) -> dict[str, Any]:
    meta = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}
    return {"jsonrpc": "2.0", "id": message_id, "method": method, "params": {**(params or {}), "_meta": {**meta, **(params or {}).get("_meta", {})}}}


def modern_headers(body: dict[str, Any], token: str | None = None) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "Accept": ACCEPT, "MCP-Protocol-Version": MODERN, "Mcp-Method": body["method"]}
    name_key = NAME_BEARING.get(body["method"])
    if name_key is not None and isinstance(body["params"].get(name_key), str):
        headers["Mcp-Name"] = body["params"][name_key]
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def rpc(url: str, token: str | None, method: str, params: dict[str, Any] | None = None, message_id: int | str = 1) -> httpx.Response:
    """One modern request to a live MCP server."""
    body = modern_body(method, params, message_id)
    return httpx.post(url, json=body, headers=modern_headers(body, token), timeout=10)


class Speaker:
    """Requests to an in-process MCP server in one era: 2026-07-28's envelope, or a 2025-11-25
    session started with initialize."""

    def __init__(self, http: FlaskClient, token: str, version: str) -> None:
        self.http, self.token, self.version = http, token, version
        self.session: str | None = None
        self.initialized: dict[str, Any] = {}
        if version == LEGACY:
            params = {"protocolVersion": LEGACY, "capabilities": {}, "clientInfo": {"name": "tests", "version": "1"}}
            answer = self._post({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params}, {})
            self.session, self.initialized = answer.headers["Mcp-Session-Id"], answer.json["result"]  # type: ignore[index]

    def send(self, method: str, params: dict[str, Any] | None = None, message_id: int | str = 1) -> TestResponse:
        if self.version == MODERN:
            body = modern_body(method, params, message_id)
            return self._post(body, modern_headers(body))
        body = {"jsonrpc": "2.0", "id": message_id, "method": method, "params": params or {}}
        return self._post(body, {"Mcp-Session-Id": self.session or "", "MCP-Protocol-Version": LEGACY})

    def result(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.send(method, params)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.json["result"]  # type: ignore[index]

    def _post(self, body: dict[str, Any], headers: dict[str, str]) -> TestResponse:
        headers = {"Content-Type": "application/json", "Accept": ACCEPT, **headers, "Authorization": f"Bearer {self.token}"}
        return self.http.post("/mcp", data=json.dumps(body), headers=headers)
