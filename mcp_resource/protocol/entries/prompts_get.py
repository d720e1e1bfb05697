"""prompts/get: the prompt a request names, its arguments checked, and its messages."""

from __future__ import annotations

from typing import Any, cast

from mcp_resource.errors import InvalidParams
from mcp_resource.prompts.base import Prompt
from mcp_resource.protocol.context import Context
from mcp_resource.protocol.entries import Admitted, Call, Entry, completed
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
    return cast(Prompt, admitted.target).get(ctx.principal, admitted.arguments)


ENTRY = Entry("prompts/get", "prompt", _call_of, find_prompt, get, completed, unknown_prefix="prompts/get ")
