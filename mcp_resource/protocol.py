"""MCP methods of the handshake era (2025-11-25, 2025-06-18, 2025-03-26), one handler each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

from mcp_resource.auth import Principal
from mcp_resource.errors import InsufficientScope, InvalidParams, MethodNotFound
from mcp_resource.tools.base import ToolCall
from mcp_resource.tools.registry import ToolRegistry

# Newest first: `initialize` answers with the client's version when we speak it, else our newest.
HANDSHAKE_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26")
# What a request without MCP-Protocol-Version is taken to speak (2025-11-25 transports section).
DEFAULT_VERSION = "2025-03-26"
SERVER_INFO = {"name": "drawbridge", "title": "Drawbridge MCP server", "version": version("mcp-drawbridge")}
INSTRUCTIONS = "Tools over a small shop-and-blog application. Each tool's description says what it does."


@dataclass(frozen=True)
class Context:
    """What a method handler may use: the caller, the tools, and the HTTP request id."""

    principal: Principal
    tools: ToolRegistry
    request_id: str


Handler = Callable[[Context, dict[str, Any]], dict[str, Any]]


def initialize(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    requested = params.get("protocolVersion")
    if not isinstance(requested, str):
        raise InvalidParams('Invalid params: "protocolVersion" must be a string.')
    chosen = requested if requested in HANDSHAKE_VERSIONS else HANDSHAKE_VERSIONS[0]
    return {
        "protocolVersion": chosen,
        "capabilities": {"tools": {"listChanged": False}},
        "serverInfo": SERVER_INFO,
        "instructions": INSTRUCTIONS,
    }


def ping(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return {}


def list_tools(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return {"tools": list(ctx.tools.visible_to(ctx.principal.scopes))}


def call_tool(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
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
    return tool.call(ToolCall(principal=ctx.principal, request_id=ctx.request_id), arguments).to_mcp()


METHODS: dict[str, Handler] = {
    "initialize": initialize,
    "ping": ping,
    "tools/list": list_tools,
    "tools/call": call_tool,
}


def dispatch(ctx: Context, method: str, params: dict[str, Any]) -> dict[str, Any]:
    handler = METHODS.get(method)
    if handler is None:
        raise MethodNotFound(f"Method not found: {method}.")
    return handler(ctx, params)
