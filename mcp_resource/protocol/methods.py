"""The MCP methods other than tools/call, one handler each, the same in every era that serves them
(eras.py says which); what differs by era is read from `ctx.era`."""

from __future__ import annotations

import base64
from importlib.metadata import version
from typing import Any

from mcp_resource import jobs, tasks
from mcp_resource.errors import InvalidParams
from mcp_resource.protocol.context import Context
from mcp_resource.protocol.versions import LOG_LEVELS, SUPPORTED_VERSIONS, negotiate
from mcp_resource.services import services

SERVER_INFO = {"name": "drawbridge", "title": "Drawbridge MCP server", "version": version("mcp-drawbridge")}
INSTRUCTIONS = (
    "Tools, resources and prompts over a small shop-and-blog application. Each one's description says what it does."
)
DISCOVER_TTL_MS = 300_000  # 2026-07-28 caching: what server/discover says changes only with a deploy
# 2026-07-28 caching of tools/list, resources/list, resources/templates/list and prompts/list: each
# list depends on the token's scopes, so private.
LIST_CACHE_HINTS = {"ttlMs": 60_000, "cacheScope": "private"}
PAGE_SIZE = 100


def capabilities() -> dict[str, Any]:
    """Resources with `subscribe` (resources/subscribe, or 2026-07-28's `resourceSubscriptions`)
    but without `listChanged`, prompts without `listChanged`: neither is sent. Logging: tools send
    messages at the level a session set (logging/setLevel) or, in 2026-07-28, a request asked for
    in its `_meta`."""
    return {"tools": {"listChanged": True}, "resources": {"subscribe": True}, "prompts": {}, "completions": {}, "logging": {}}


def initialize(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    requested = params.get("protocolVersion")
    if not isinstance(requested, str):
        raise InvalidParams('Invalid params: "protocolVersion" must be a string.')
    return {
        "protocolVersion": negotiate(requested),
        "capabilities": capabilities(),
        "serverInfo": SERVER_INFO,
        "instructions": INSTRUCTIONS,
    }


def discover(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "supportedVersions": list(SUPPORTED_VERSIONS),
        "capabilities": {**capabilities(), "extensions": {tasks.EXTENSION: {}}},
        "instructions": INSTRUCTIONS,
        "ttlMs": DISCOVER_TTL_MS,
        "cacheScope": "public",
    }


def ping(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return {}


def set_log_level(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """The handshake eras' logging/setLevel: the session's later calls send log messages at this
    level or more severe (2026-07-28 has no such method: each request asks in its `_meta`)."""
    level = params.get("level")
    if level not in LOG_LEVELS:
        raise InvalidParams(f'Invalid params: "level" must be one of {", ".join(LOG_LEVELS)}.')
    session = services().sessions.get(ctx.session_id or "", idle_seconds=None)
    if session is not None:
        services().sessions.set_log_level(session, level)
    return {}


def unsubscribe(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """The handshake eras' resources/unsubscribe: no more updates of `uri` for the session. Giving
    up updates needs no scope; a URI the session never subscribed to is no change."""
    uri = params.get("uri")
    if not isinstance(uri, str) or not uri:
        raise InvalidParams('Invalid params: "uri" must be the URI given to resources/subscribe.')
    services().subscriptions.remove(ctx.session_id or "", uri)
    return {}


def list_tools(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _page(ctx, params, "tools", ctx.tools.visible_to(ctx.principal.scopes))


def list_resources(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """The static resources the token's scopes let it read (templates are listed apart)."""
    return _page(ctx, params, "resources", services().resources.listed(ctx.principal.scopes))


def list_resource_templates(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _page(ctx, params, "resourceTemplates", services().resources.templates_listed(ctx.principal.scopes))


def list_prompts(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _page(ctx, params, "prompts", services().prompts.listings_visible_to(ctx.principal.scopes))


def _page(ctx: Context, params: dict[str, Any], key: str, listings: tuple[dict[str, Any], ...]) -> dict[str, Any]:
    """One page of a list (pagination utility), with the era's caching hints."""
    start = _cursor_offset(params.get("cursor"), len(listings))
    result: dict[str, Any] = {key: list(listings[start : start + PAGE_SIZE])}
    if start + PAGE_SIZE < len(listings):
        result["nextCursor"] = _cursor(start + PAGE_SIZE)
    if ctx.era.caching_hints:
        result.update(LIST_CACHE_HINTS)
    return result


def get_task(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return tasks.view(tasks.owned(ctx.principal, params, ctx.client_capabilities))


def cancel_task(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Cooperative: the job stops at its next progress report."""
    jobs.request_cancel(tasks.owned(ctx.principal, params, ctx.client_capabilities))
    return {}


def update_task(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """No task of ours waits for input, so responses are acknowledged and ignored, as the extension says."""
    tasks.owned(ctx.principal, params, ctx.client_capabilities)
    return {}


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def _cursor_offset(cursor: Any, total: int) -> int:
    """Cursors are opaque to clients; an invalid one is -32602 (pagination utility)."""
    if cursor is None:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(str(cursor).encode()).decode().partition(":")
        offset = int(value)
    except (ValueError, UnicodeDecodeError):
        raise InvalidParams("Invalid cursor: pass back the nextCursor of the previous page unchanged.") from None
    if kind != "o" or not 0 <= offset <= total:
        raise InvalidParams("Invalid cursor: pass back the nextCursor of the previous page unchanged.")
    return offset
