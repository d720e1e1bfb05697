"""tools/call: the tool a call names, and the tool's run (or, in 2026-07-28 with the tasks
extension, a task for it)."""

from __future__ import annotations

from functools import partial
from typing import Any, cast

from mcp_resource import tasks
from mcp_resource.asking import rounds
from mcp_resource.asking.request_state import Binding
from mcp_resource.errors import InputRequired, InvalidParams, NeedsNewerProtocol
from mcp_resource.protocol.context import Context
from mcp_resource.protocol.entries import Admitted, Call, Entry
from mcp_resource.services import services
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
    try:
        return tool.call(call, arguments).to_mcp()
    except InputRequired as needed:
        if not ctx.era.answers_input_required:
            raise NeedsNewerProtocol("This tool needs input the 2026-07-28 protocol asks for; upgrade the client.") from None
        result = {"resultType": "input_required", "inputRequests": needed.input_requests}
        if needed.request_state is not None:
            result["requestState"] = needed.request_state
        return result


def resume(ctx: Context, call: Call) -> None:
    """2026-07-28: the call's asker holds the answers of its earlier rounds (the retry's
    requestState is checked and spent here: its one Redis command; none for other calls)."""
    if ctx.era.answers_input_required:
        binding = partial(Binding.of, ctx.principal.client_id, ctx.principal.subject, ENTRY.method, call.name, call.arguments)
        ctx.asker = rounds.asker_for(ctx.client_capabilities, services().request_states, binding, ctx.input_responses, ctx.request_state)


def outcome(result: dict[str, Any]) -> tuple[str, str | None]:
    """The outcome and error of a call that answered with `result`."""
    if result.get("resultType") == "task":
        return "task_created", None
    if result.get("resultType") == "input_required":
        return "ok", "input required"
    if result["isError"]:
        return "tool_error", result["content"][0].get("text") if result["content"] else None
    return "ok", None


ENTRY = Entry("tools/call", "tool", _call_of, find_tool, run_tool, outcome, unknown_prefix="", resume=resume)
