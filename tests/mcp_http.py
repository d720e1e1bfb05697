"""Plain-HTTP MCP requests for tests: the modern (2026-07-28) envelope with its headers."""

from __future__ import annotations

from typing import Any

import httpx

MODERN = "2026-07-28"
ACCEPT = "application/json, text/event-stream"


def modern_body(method: str, params: dict[str, Any] | None = None, message_id: int | str = 1) -> dict[str, Any]:
    meta = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}
    return {"jsonrpc": "2.0", "id": message_id, "method": method, "params": {**(params or {}), "_meta": {**meta, **(params or {}).get("_meta", {})}}}


def modern_headers(body: dict[str, Any], token: str | None = None) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "Accept": ACCEPT, "MCP-Protocol-Version": MODERN, "Mcp-Method": body["method"]}
    if body["method"] == "tools/call" and isinstance(body["params"].get("name"), str):
        headers["Mcp-Name"] = body["params"]["name"]
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def rpc(url: str, token: str | None, method: str, params: dict[str, Any] | None = None, message_id: int | str = 1) -> httpx.Response:
    """One modern request to a live MCP server."""
    body = modern_body(method, params, message_id)
    return httpx.post(url, json=body, headers=modern_headers(body, token), timeout=10)
