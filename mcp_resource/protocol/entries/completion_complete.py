"""completion/complete: suggestions for a prompt's argument or a resource template's variable.

A ref the token may not see (its prompt or resource needs a scope the token lacks) is as unknown
as one that does not exist (completion utility, security: no completion-based disclosure); so
step 2 never refuses a completion with a step-up. Each completion counts against the caller's
limits like a tool call, under `completion/complete <prompt name or URI template>`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from mcp_resource.errors import InvalidParams
from mcp_resource.prompts.base import Prompt
from mcp_resource.protocol.context import Context
from mcp_resource.protocol.entries import Admitted, Call, Entry, completed
from mcp_resource.resources.base import Resource
from mcp_resource.services import services

MAX_VALUES = 100  # completion utility: at most 100 values per response


@dataclass(frozen=True)
class Completing:
    """The prompt or resource template whose argument is completed, as the guardrail steps see it."""

    of: Prompt | Resource
    argument: str
    value: str
    context: dict[str, str]

    @property
    def audit_name(self) -> str:
        return f"completion/complete {self.of.key}"

    @property
    def scope(self) -> str:
        return self.of.scope

    requires_client_capabilities: ClassVar[tuple[str, ...]] = ()
    read_only: ClassVar[bool] = True
    rate_limit_per_minute: ClassVar[int | None] = None
    streams: ClassVar[bool] = False

    @property
    def sensitive(self) -> frozenset[str]:
        """A sensitive argument's value is in both "argument" and "context": neither is kept."""
        return frozenset({"argument", "context"}) if self.of.sensitive else frozenset()


def _call_of(params: dict[str, Any]) -> tuple[Any, Any]:
    ref = params.get("ref")
    name = (ref.get("name") if ref.get("type") == "ref/prompt" else ref.get("uri")) if isinstance(ref, dict) else None
    return name, {key: params[key] for key in ("ref", "argument", "context") if key in params}


def find_ref(ctx: Context, call: Call) -> None:
    ref, argument = call.arguments.get("ref"), call.arguments.get("argument")
    if not isinstance(ref, dict) or ref.get("type") not in ("ref/prompt", "ref/resource") or not isinstance(call.name, str):
        raise InvalidParams('Invalid params: "ref" must be {"type": "ref/prompt", "name": ...} or {"type": "ref/resource", "uri": ...}.')
    if not (isinstance(argument, dict) and isinstance(argument.get("name"), str) and isinstance(argument.get("value"), str)):
        raise InvalidParams('Invalid params: "argument" must be {"name": ..., "value": ...} with text for both.')
    context = _context_arguments(call.arguments.get("context"))
    of = _visible(ctx, ref["type"], call.name)
    names = of.argument_names() if isinstance(of, Prompt) else of.template.variables if of.template is not None else ()
    if argument["name"] not in names:
        what = f"The prompt {call.name}" if isinstance(of, Prompt) else f"The resource {call.name}"
        raise InvalidParams(f"{what} has no argument {argument['name']}; it has: {', '.join(names) or 'none'}.")
    call.target = Completing(of, argument["name"], argument["value"], context)


def _visible(ctx: Context, kind: str, name: str) -> Prompt | Resource:
    granted = ctx.principal.scopes
    if kind == "ref/prompt":
        prompt = services().prompts.get(name)
        if prompt is None or prompt.scope not in granted:
            raise InvalidParams(f"Unknown prompt: {name}. Call prompts/list for the prompts you can use.")
        return prompt
    registry = services().resources
    resource = registry.by_key(name)
    if resource is None:  # a URI rather than its template
        found = registry.find(name)
        resource = found[0] if found is not None else None
    if resource is None or resource.scope not in granted:
        raise InvalidParams(f"Unknown resource: {name}. Call resources/templates/list for the templates you can use.")
    return resource


def _context_arguments(context: Any) -> dict[str, str]:
    if context is None:
        return {}
    arguments = context.get("arguments", {}) if isinstance(context, dict) else None
    if not (isinstance(arguments, dict) and all(isinstance(v, str) for v in arguments.values())):
        raise InvalidParams('Invalid params: "context" must be {"arguments": {name: text, ...}}.')
    return arguments


def complete(ctx: Context, admitted: Admitted) -> dict[str, Any]:
    completing: Completing = admitted.target  # type: ignore[assignment]  # find_ref set it
    values = completing.of.complete(completing.argument, completing.value, completing.context)
    completion: dict[str, Any] = {"values": values[:MAX_VALUES], "hasMore": len(values) > MAX_VALUES}
    if not completion["hasMore"]:  # a target may stop counting past the first page
        completion["total"] = len(values)
    return {"completion": completion}


ENTRY = Entry("completion/complete", "completion of", _call_of, find_ref, complete, completed, unknown_prefix="completion/complete ")
