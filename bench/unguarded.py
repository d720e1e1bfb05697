"""The MCP server for the guardrails benchmark: the normal app plus a bench-only `echo` tool, and the
same `/mcp` endpoint mounted a second time at `/bench/unguarded/mcp` with the three guardrails
switched off (no token check, no rate limit, no audit row). Both answer from one process through the
same transport, protocol and tool code, so the difference is what the guardrails cost.
Never deployed: it lives in bench/."""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from marshmallow import Schema, fields

import mcp_resource
from mcp_resource.auth import Principal
from mcp_resource.guardrails.ratelimit import UNCOUNTED, Charge, Decision
from mcp_resource.services import services
from mcp_resource.tools.base import Annotations, Tool, ToolCall, ToolResult
from mcp_resource.tools.registry import ToolRegistry
from mcp_resource.transport import http

UNGUARDED_PREFIX = "/bench/unguarded"
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


def _unguarded() -> bool:
    return request.path.startswith(UNGUARDED_PREFIX)


class _Switch:
    """Delegates to the real guardrail, except on the unguarded mount."""

    def __init__(self, real: Any, off: Any) -> None:
        self.real, self.off = real, off

    def __getattr__(self, name: str) -> Any:
        return getattr(self.off if _unguarded() else self.real, name)


class _NoAuth:
    def verify_header(self, authorization: str | None, check_revocation: bool = True) -> Principal:
        return NOBODY

    def check_revocation(self, principal: Principal) -> None:
        pass


class _NoLimit:
    def admit(self, revocations: list[tuple[str, str]], issued_at: int, charge: Charge | None) -> Decision:
        return UNCOUNTED


class _NoAudit:
    def write(self, row: dict[str, Any]) -> None:
        pass


def create_app() -> Flask:
    app = mcp_resource.create_app()
    found = services(app)
    found.tools = ToolRegistry([found.tools.tool(n) for n in found.tools.names()] + [Echo()])
    for name, off in (("verifier", _NoAuth()), ("ratelimit", _NoLimit()), ("audit", _NoAudit())):
        setattr(found, name, _Switch(getattr(found, name), off))
    app.register_blueprint(http.bp, url_prefix=UNGUARDED_PREFIX, name="unguarded")
    return app
