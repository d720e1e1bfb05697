"""prompts/get: the prompt a request names, its arguments checked, and its messages."""

from __future__ import annotations

from typing import Any, cast

from mcp_resource.errors import InvalidParams, NeedsNewerProtocol, ToolError
from mcp_resource.prompts.base import Prompt
from mcp_resource.protocol.context import Context
from mcp_resource.protocol.entries import Admitted, Call, Entry, answered, asked_or_completed, resume_rounds
from mcp_resource.services import services


def _call_of(params: dict[str, Any]) -> tuple[Any, Any]:
    return params.get("name"), params.get("arguments", {})


def find_prompt(ctx: Context, call: Call) -> None:
    if not isinstance(call.name, str):
        raise InvalidParams('Invalid params: "name" must be the name of a prompt from prompts/list.')
    if not isinstance(call.arguments, dict):
        raise InvalidParams('Invalid params: "arguments" must be an object of text values.')
    call.target = services().prompts.get(call.name)
    if call.target is None:
        raise InvalidParams(f"Unknown prompt: {call.name}. Call prompts/list for the prompts you can use.")


def get(ctx: Context, admitted: Admitted) -> dict[str, Any]:
    """The prompt's messages; one that asks the client answers `input_required` in 2026-07-28
    (the handshake eras have no way to ask on a prompts/get)."""
    prompt = cast(Prompt, admitted.target)
    if ctx.era.answers_input_required:
        return answered(lambda: prompt.get(ctx.principal, admitted.arguments, ctx.asker))
    try:
        return prompt.get(ctx.principal, admitted.arguments, ctx.asker)
    except ToolError:
        raise NeedsNewerProtocol(f"The prompt {prompt.name} asks the client for input, which needs the 2026-07-28 protocol; upgrade the client.") from None


ENTRY = Entry("prompts/get", "prompt", _call_of, find_prompt, get, asked_or_completed, unknown_prefix="prompts/get ", resume=resume_rounds)
