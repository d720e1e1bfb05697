"""tools/call: the tool a call names, and the tool's run (or, in 2026-07-28 with the tasks
extension, a task for it)."""

from __future__ import annotations

from typing import Any, cast

from mcp_resource import tasks
from mcp_resource.errors import InputRequired, InvalidParams, NeedsNewerProtocol
from mcp_resource.protocol.context import Context
from mcp_resource.protocol.entries import Admitted, Call, Entry, answered, asked_or_completed, resume_rounds
from mcp_resource.tools.base import Tool, ToolCall


def _call_of(params: dict[str, Any]) -> tuple[Any, Any]:
    return params.get("name"), params.get("arguments", {})


def find_tool(ctx: Context, call: Call) -> None:
    if not isinstance(call.name, str):
        raise InvalidParams('Invalid params: "name" must be the name of a tool from tools/list.')
    call.target = ctx.tools.get(call.name)
    if not isinstance(call.arguments, dict):
        raise InvalidParams('Invalid params: "arguments" must be an object.')
    if call.target is None:
        raise InvalidParams(f"Unknown tool: {call.name}. Call tools/list for the tools you can use.")


def run_tool(ctx: Context, admitted: Admitted) -> dict[str, Any]:
    tool, arguments = cast(Tool, admitted.target), admitted.arguments
    if ctx.era.offers_tasks and tool.runs_as_job() and tasks.declared(ctx.client_capabilities):
        return tasks.create(ctx.principal, tool, arguments)
    call = ToolCall(
        principal=ctx.principal,
        request_id=ctx.request_id,
        progress=ctx.progress,
        cancelled=ctx.cancelled,
        close_stream=ctx.close_stream,
        log_sink=ctx.log_sink,
        asker=ctx.asker,
    )
    if not ctx.era.answers_input_required:
        try:
            return tool.call(call, arguments).to_mcp()
        except InputRequired:
            raise NeedsNewerProtocol("This tool needs input the 2026-07-28 protocol asks for; upgrade the client.") from None
    return answered(lambda: tool.call(call, arguments).to_mcp())


def outcome(result: dict[str, Any]) -> tuple[str, str | None]:
    """The outcome and error of a call that answered with `result`."""
    if result.get("resultType") == "task":
        return "task_created", None
    if result.get("resultType") == "input_required":
        return asked_or_completed(result)
    if result["isError"]:
        return "tool_error", result["content"][0].get("text") if result["content"] else None
    return "ok", None


ENTRY = Entry("tools/call", "tool", _call_of, find_tool, run_tool, outcome, unknown_prefix="", resume=resume_rounds)
