"""MCP methods, one handler each, and which era serves which.

Modern (2026-07-28): stateless; every request carries its version and capabilities in `_meta`;
`server/discover` describes the server; results carry `resultType` and serverInfo.
Legacy (2025-11-25, 2025-06-18, 2025-03-26): `initialize` starts a session; `ping` exists.
The same tool registry, auth and guardrails serve both.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

from mcp_resource import jobs, tasks
from mcp_resource.auth import Principal
from mcp_resource.errors import (
    Cancelled,
    InputRequired,
    InsufficientScope,
    InternalError,
    InvalidParams,
    MethodNotFound,
    MissingRequiredClientCapability,
    RateLimited,
)
from mcp_resource.guardrails import audit, ratelimit, unavailable
from mcp_resource.tools.base import ProgressReporter, Tool, ToolCall
from mcp_resource.tools.registry import ToolRegistry

MODERN = "modern"
LEGACY = "legacy"
MODERN_VERSIONS = ("2026-07-28",)
# Newest first: `initialize` answers with the client's version when we speak it, else our newest.
HANDSHAKE_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")
SUPPORTED_VERSIONS = MODERN_VERSIONS + HANDSHAKE_VERSIONS
# What a legacy request without MCP-Protocol-Version is taken to speak (2025-11-25 transports).
DEFAULT_LEGACY_VERSION = "2025-03-26"

PROTOCOL_VERSION_META = "io.modelcontextprotocol/protocolVersion"
CLIENT_CAPABILITIES_META = "io.modelcontextprotocol/clientCapabilities"
SERVER_INFO_META = "io.modelcontextprotocol/serverInfo"
SUBSCRIPTION_ID_META = "io.modelcontextprotocol/subscriptionId"
LOG_LEVEL_META = "io.modelcontextprotocol/logLevel"
# RFC 5424 severities, as MCP logging names them, least severe first.
LOG_LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")

SERVER_INFO = {"name": "drawbridge", "title": "Drawbridge MCP server", "version": version("mcp-drawbridge")}
INSTRUCTIONS = "Tools over a small shop-and-blog application. Each tool's description says what it does."
# Cache hints (2026-07-28 caching): the tool list depends on the token, so it is private.
DISCOVER_TTL_MS = 300_000
TOOLS_LIST_TTL_MS = 60_000
TOOLS_PAGE_SIZE = 100


@dataclass
class Context:
    """What a method handler may use: the caller, the tools, the era, and the call's plumbing."""

    principal: Principal
    tools: ToolRegistry
    request_id: str
    era: str
    protocol_version: str
    progress: ProgressReporter | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)
    close_stream: Callable[[], None] = lambda: None
    client_capabilities: dict[str, Any] = field(default_factory=dict)
    log_sink: Callable[[str, Any], None] | None = None
    admitted: tuple[Tool, dict[str, Any]] | None = None
    ip: str | None = None
    session_id: str | None = None
    started: float = field(default_factory=time.perf_counter)


Handler = Callable[[Context, dict[str, Any]], dict[str, Any]]


def capabilities() -> dict[str, Any]:
    return {"tools": {"listChanged": True}}


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


def negotiate(requested: str) -> str:
    return requested if requested in HANDSHAKE_VERSIONS else HANDSHAKE_VERSIONS[0]


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


def list_tools(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    visible = ctx.tools.visible_to(ctx.principal.scopes)
    start = _cursor_offset(params.get("cursor"), len(visible))
    page = list(visible[start : start + TOOLS_PAGE_SIZE])
    result: dict[str, Any] = {"tools": page}
    if start + TOOLS_PAGE_SIZE < len(visible):
        result["nextCursor"] = _cursor(start + TOOLS_PAGE_SIZE)
    if ctx.era == MODERN:
        result.update(ttlMs=TOOLS_LIST_TTL_MS, cacheScope="private")
    return result


def check_tool_call(ctx: Context, params: dict[str, Any]) -> tuple[Tool, dict[str, Any]]:
    """The tool and its arguments, or the protocol error or step-up challenge that refuses the call."""
    name = params.get("name")
    arguments = params.get("arguments", {})
    if not isinstance(name, str):
        raise InvalidParams('Invalid params: "name" must be the name of a tool from tools/list.')
    if not isinstance(arguments, dict):
        raise InvalidParams('Invalid params: "arguments" must be an object.')
    tool = ctx.tools.get(name)
    if tool is None:
        raise InvalidParams(f"Unknown tool: {name}. Call tools/list for the tools you can use.")
    if tool.scope not in ctx.principal.scopes:
        raise InsufficientScope(f"The tool {name} needs the scope {tool.scope}.", scope=tool.scope)
    missing = [c for c in tool.requires_client_capabilities if c not in ctx.client_capabilities]
    if ctx.era == MODERN and missing:
        raise MissingRequiredClientCapability(
            f"The tool {name} needs the client capabilities: {', '.join(missing)}.",
            data={"requiredCapabilities": {c: {} for c in missing}},
        )
    return tool, arguments


REFUSALS: dict[type[Exception], str] = {InsufficientScope: "refused", RateLimited: "rate_limited", InvalidParams: "invalid", MissingRequiredClientCapability: "invalid"}


def admit_tool_call(ctx: Context, params: dict[str, Any]) -> tuple[Tool, dict[str, Any]]:
    """The guardrails before a call runs, once per call: scope, then revocation and the client's
    rate limit in one step. A revoked token hears so before any refusal; a refusal, a 503 included,
    is audited before it is answered."""
    if ctx.admitted is None:
        with outages_audited(ctx, params):
            try:
                try:
                    tool, arguments = check_tool_call(ctx, params)
                except tuple(REFUSALS):
                    ratelimit.admit(ctx.principal, count=False)
                    raise
                ratelimit.admit(ctx.principal)
            except tuple(REFUSALS) as refusal:
                _audit_refusal(ctx, params, REFUSALS[type(refusal)], str(refusal))
                raise
        ctx.admitted = (tool, arguments)
    return ctx.admitted


@contextmanager
def outages_audited(ctx: Context, params: dict[str, Any]) -> Iterator[None]:
    """Around a step of a tools/call: a failure that refuses the call with 503 (a backing service
    unavailable) is audited like any refusal, or counted and logged when the database cannot take
    its row. Every transport's tools/call passes here: admission, the run, and a legacy session's
    lookup before them."""
    try:
        yield
    except Exception as cause:
        reason = unavailable.reason(cause)
        if reason is None:
            raise
        if not unavailable.auditable(cause):
            unavailable.unaudited(str(params.get("name")), cause)
            raise
        try:
            _audit_refusal(ctx, params, unavailable.OUTCOME, reason)
        except audit.AuditUnavailable as failure:
            unavailable.unaudited(str(params.get("name")), failure)
        raise


def _audit_refusal(ctx: Context, params: dict[str, Any], outcome: str, error: str) -> None:
    """The one path every refused call's row takes, whatever refused it."""
    name = params.get("name")
    known = ctx.tools.get(name) if isinstance(name, str) else None
    _audit(ctx, str(name), known, params.get("arguments"), outcome, error)


def _audit(ctx: Context, name: str, tool: Tool | None, arguments: Any, outcome: str, error: str | None = None) -> None:
    caller = audit.Caller(ctx.principal.client_id, ctx.principal.subject, ctx.request_id, ctx.ip, ctx.session_id)
    audit.record(caller, name, tool, arguments, outcome, (time.perf_counter() - ctx.started) * 1000, error)


def call_tool(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    tool, arguments = admit_tool_call(ctx, params)
    with outages_audited(ctx, params):
        return _run(ctx, tool, arguments)


def _run(ctx: Context, tool: Tool, arguments: dict[str, Any]) -> dict[str, Any]:
    """The admitted call, as a task or at once, and its audit row."""
    if ctx.era == MODERN and tool.runs_as_job() and tasks.declared(ctx.client_capabilities):
        created = tasks.create(ctx.principal, tool, arguments)
        _audit(ctx, tool.name, tool, arguments, "task_created" if "taskId" in created else "tool_error")
        return created
    call = ToolCall(
        principal=ctx.principal,
        request_id=ctx.request_id,
        progress=ctx.progress,
        cancelled=ctx.cancelled,
        close_stream=ctx.close_stream,
        log_sink=ctx.log_sink,
    )
    try:
        result = tool.call(call, arguments).to_mcp()
    except Cancelled:
        _audit(ctx, tool.name, tool, arguments, "failed", "cancelled by the client")
        raise
    except InputRequired as needed:
        _audit(ctx, tool.name, tool, arguments, "ok", "input required")
        if ctx.era != MODERN:
            raise InternalError("This tool needs input the 2026-07-28 protocol asks for; upgrade the client.") from None
        result = {"resultType": "input_required", "inputRequests": needed.input_requests}
        if needed.request_state is not None:
            result["requestState"] = needed.request_state
        return result
    error = result["content"][0].get("text") if result["isError"] and result["content"] else None
    _audit(ctx, tool.name, tool, arguments, "tool_error" if result["isError"] else "ok", error)
    return result


def get_task(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return tasks.view(tasks.owned(ctx.principal, params))


def cancel_task(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Cooperative: the job stops at its next progress report."""
    jobs.request_cancel(tasks.owned(ctx.principal, params))
    return {}


def update_task(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """No task of ours waits for input, so responses are acknowledged and ignored, as the extension says."""
    tasks.owned(ctx.principal, params)
    return {}


LEGACY_METHODS: dict[str, Handler] = {
    "initialize": initialize,
    "ping": ping,
    "tools/list": list_tools,
    "tools/call": call_tool,
}
MODERN_METHODS: dict[str, Handler] = {
    "server/discover": discover,
    "tools/list": list_tools,
    "tools/call": call_tool,
    "tasks/get": get_task,
    "tasks/cancel": cancel_task,
    "tasks/update": update_task,
}


def dispatch(ctx: Context, method: str, params: dict[str, Any]) -> dict[str, Any]:
    table = MODERN_METHODS if ctx.era == MODERN else LEGACY_METHODS
    handler = table.get(method)
    if handler is None:
        # 2026-07-28: an unknown method is HTTP 404, which tells it apart from a legacy 404.
        raise MethodNotFound(f"Method not found: {method}.", http_status=404 if ctx.era == MODERN else 200)
    result = handler(ctx, params)
    if ctx.era == MODERN:
        result = {"resultType": "complete", **result, "_meta": {**result.get("_meta", {}), SERVER_INFO_META: SERVER_INFO}}
    return result


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
        raise InvalidParams("Invalid cursor: pass back a nextCursor from tools/list unchanged.") from None
    if kind != "o" or not 0 <= offset <= total:
        raise InvalidParams("Invalid cursor: pass back a nextCursor from tools/list unchanged.")
    return offset
