"""Fixture tools of the MCP conformance suite, added through the `drawbridge.tools` entry points:
the proof that a separate package can bring tools (and their scope) without touching the registry."""

from __future__ import annotations

import time
from typing import Any

from marshmallow import Schema, fields

from mcp_resource.errors import ToolError
from mcp_resource.tools.base import Annotations, Tool, ToolCall, ToolResult
from shared.scopes import Scope

SCOPE = "conformance:run"
SCOPES = (Scope(SCOPE, "Run the MCP conformance suite's fixture tools."),)
PROGRESS_STEP_SECONDS = 0.05


class NoArguments(Schema):
    pass


class SimpleText(Tool):
    name = "test_simple_text"
    description = "Return a fixed line of text."
    scope = SCOPE
    annotations = Annotations(read_only=True, idempotent=True)
    Input = NoArguments

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        return ToolResult(text="This is a simple text response for testing.")


class ProgressInput(Schema):
    steps = fields.Integer(load_default=3, validate=lambda n: 1 <= n <= 1000)
    step_seconds = fields.Float(load_default=PROGRESS_STEP_SECONDS, validate=lambda s: 0 <= s <= 5)


class ToolWithProgress(Tool):
    name = "test_tool_with_progress"
    description = "Report progress in steps, then finish."
    scope = SCOPE
    annotations = Annotations(read_only=True)
    Input = ProgressInput

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        steps = args["steps"]
        for step in range(steps + 1):
            call.report_progress(step * 100 / steps, 100, f"step {step} of {steps}")
            if step < steps:
                time.sleep(args["step_seconds"])
        return ToolResult(text=f"Progress tool finished after {steps} steps.")


class ErrorHandling(Tool):
    name = "test_error_handling"
    description = "Always fail the way a tool fails: a result with isError set."
    scope = SCOPE
    Input = NoArguments

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        raise ToolError("This tool intentionally returns an error for testing")
