"""The weather API's client: its base URL from WEATHER_API_URL, and its failures as ToolErrors,
whose text the model reads (isError results)."""

from __future__ import annotations

import os
from typing import Any

import httpx

from mcp_resource.errors import ToolError

TIMEOUT_SECONDS = 5.0


def request(method: str, path: str, json: Any = None) -> Any:
    """The API's JSON answer; a ToolError for a missing setting, an unreachable API or an error status."""
    base_url = os.environ.get("WEATHER_API_URL")
    if not base_url:
        raise ToolError("The weather API is not configured (WEATHER_API_URL is unset); ask the operator.")
    try:
        response = httpx.request(method, base_url.rstrip("/") + path, json=json, timeout=TIMEOUT_SECONDS)
    except httpx.HTTPError as error:
        raise ToolError(f"The weather API did not answer ({type(error).__name__}); try again later.") from error
    if response.status_code == 404:
        raise ToolError(_message(response, "Not found."))
    if response.status_code >= 400:
        raise ToolError(f"The weather API refused the request (HTTP {response.status_code}): {_message(response, '')}".strip())
    return response.json() if response.content else None


def _message(response: httpx.Response, default: str) -> str:
    """The API's own error text ({"error": "..."}), else the default."""
    try:
        body = response.json()
    except ValueError:
        return default
    return str(body.get("error", default)) if isinstance(body, dict) else default
