"""The MCP server for the guardrails benchmark: the normal app, plus a bench-only `echo` tool and a
bench-only route that runs a tools/call with no authentication, rate limit or audit, so the same
process serves the same call with and without guardrails. Never deployed: it lives in bench/."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, g, jsonify, request
from marshmallow import Schema, fields

import mcp_resource
from mcp_resource import jsonrpc
from mcp_resource.auth import Principal
from mcp_resource.tools.base import Annotations, Tool, ToolCall, ToolResult
from mcp_resource.tools.registry import ToolRegistry

NOBODY = Principal(client_id="bench", subject="bench", scopes=frozenset({"posts:read"}), token_id="bench", expires_at=0)


class EchoInput(Schema):
    text = fields.String(required=True)


class Echo(Tool):
    name = "echo"
    description = "Return the text it was given."
    scope = "posts:read"
    annotations = Annotations(read_only=True, idempotent=True)
    Input = EchoInput

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        return ToolResult(text=args["text"])


def create_app() -> Flask:
    app = mcp_resource.create_app()
    registry = app.extensions["drawbridge.tools"]
    app.extensions["drawbridge.tools"] = ToolRegistry([registry.tool(n) for n in registry.names()] + [Echo()])

    @app.post("/bench/unguarded")
    def unguarded() -> Response:
        message = jsonrpc.parse(request.get_data())
        tool = app.extensions["drawbridge.tools"].get(message.params["name"])
        result = tool.call(ToolCall(principal=NOBODY, request_id=g.request_id), message.params.get("arguments", {})).to_mcp()
        return jsonify(jsonrpc.success(message.id, result))  # type: ignore[arg-type]

    return app
