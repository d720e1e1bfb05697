"""Tool.call: validation, tool errors and unexpected exceptions become results, never leaks."""

from __future__ import annotations

import logging

from marshmallow import Schema, fields

from mcp_resource.auth import Principal
from mcp_resource.errors import ToolError
from mcp_resource.tools.base import Tool, ToolCall, ToolResult

CALL = ToolCall(
    principal=Principal(client_id="c", subject="c", scopes=frozenset({"posts:read"}), token_id="j", expires_at=0),
    request_id="req-123",
)


class EchoInput(Schema):
    text = fields.String(required=True)


class Echo(Tool):
    name = "echo"
    description = "Echo the text."
    scope = "posts:read"
    Input = EchoInput

    def run(self, call: ToolCall, args: dict) -> ToolResult:
        if args["text"] == "refuse":
            raise ToolError("Refused: send other text.")
        if args["text"] == "crash":
            raise RuntimeError("password=hunter2 in /srv/app/secret.py")
        return ToolResult(text=args["text"])


def test_a_good_call_returns_its_result():
    assert Echo().call(CALL, {"text": "hi"}).to_mcp() == {"content": [{"type": "text", "text": "hi"}], "isError": False}


def test_a_tool_error_is_a_result_with_its_message():
    result = Echo().call(CALL, {"text": "refuse"})

    assert result.is_error
    assert result.text == "Refused: send other text."


def test_an_unexpected_exception_returns_a_reference_and_logs_the_traceback(caplog):
    with caplog.at_level(logging.ERROR):
        result = Echo().call(CALL, {"text": "crash"})

    assert result.is_error
    assert result.text == "Internal error in echo, reference req-123."
    assert "hunter2" not in result.text
    record = next(r for r in caplog.records if r.getMessage() == "tool_failed")
    assert record.exc_info is not None
    assert record.tool == "echo"


def test_invalid_input_names_the_field_and_what_to_send():
    result = Echo().call(CALL, {"text": 5})

    assert result.is_error
    assert result.text == "Invalid arguments for echo: text: Not a valid string. Send arguments that match the tool's inputSchema."


def test_every_problem_is_named_at_once():
    result = Echo().call(CALL, {"other": 1})

    assert result.text == (
        "Invalid arguments for echo: other: Unknown field. text: Missing data for required field. "
        "Send arguments that match the tool's inputSchema."
    )
