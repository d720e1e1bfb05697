"""The methods that run guarded work, one entry each in the guardrail steps (protocol/pipeline.py):
what a request names and how step 1 finds it, and what step 5 runs. One module per method."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from mcp_resource.asking import rounds
from mcp_resource.asking.request_state import Binding
from mcp_resource.errors import InputRequired
from mcp_resource.guarded import Guarded
from mcp_resource.protocol.context import Context
from mcp_resource.services import services


@dataclass(frozen=True)
class Entry:
    method: str
    #: How its refusals name what was asked for: "tool", "resource", "prompt", "completion of".
    noun: str
    #: What a request names (a tool's or prompt's name, a URI, a completion's ref) and its arguments.
    call_of: Callable[[dict[str, Any]], tuple[Any, Any]]
    #: Step 1: sets the call's target, or refuses with -32602 (or the era's "Resource not found").
    find: Callable[[Context, Call], None]
    #: Step 5: the result.
    run: Callable[[Context, Admitted], dict[str, Any]]
    #: The outcome and error its audit row records for a result.
    outcome: Callable[[dict[str, Any]], tuple[str, str | None]]
    #: Before the name of a target that was not found, in its audit row (`Guarded.audit_name`).
    unknown_prefix: str
    #: After admission, before any stream opens: what a 2026-07-28 retry brings from its earlier
    #: rounds (mcp_resource/asking/), refused with -32602 if its requestState is not good.
    resume: Callable[[Context, Call], None] = lambda ctx, call: None


@dataclass
class Call:
    """One request to a guarded method as the steps see it: what it names, and its target once found."""

    entry: Entry
    name: Any
    arguments: Any
    target: Guarded | None = None
    #: What step 1 learned besides the target (a URI's template values, the argument to complete).
    found: Any = None

    @classmethod
    def of(cls, entry: Entry, params: dict[str, Any]) -> Call:
        return cls(entry, *entry.call_of(params))

    def audit_name(self) -> str:
        return self.target.audit_name if self.target is not None else self.entry.unknown_prefix + str(self.name)


@dataclass(frozen=True)
class Admitted:
    """A call that passed steps 1-4: it runs, and nothing refuses it any more."""

    call: Call
    target: Guarded
    arguments: dict[str, Any]


def completed(result: dict[str, Any]) -> tuple[str, str | None]:
    """The outcome of a method whose every result is a success."""
    return "ok", None


def asked_or_completed(result: dict[str, Any]) -> tuple[str, str | None]:
    """The outcome of a method whose results are successes, or a round that asked the client."""
    return ("ok", "input required") if result.get("resultType") == "input_required" else ("ok", None)


def resume_rounds(ctx: Context, call: Call) -> None:
    """The `resume` of the methods that may answer `input_required` (mrtr.mdx: tools/call,
    prompts/get, resources/read): in 2026-07-28 the call's asker holds the answers of its earlier
    rounds; a retry's requestState is checked and spent here, its one Redis command (none for a
    request without one)."""
    if ctx.era.answers_input_required:
        binding = partial(Binding.of, ctx.principal.client_id, ctx.principal.subject, call.entry.method, call.name, call.arguments)
        ctx.asker = rounds.asker_for(ctx.client_capabilities, services().request_states, binding, ctx.input_responses, ctx.request_state)


def answered(run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Step 5's result, or the InputRequiredResult of a target that asked the client (2026-07-28)."""
    try:
        return run()
    except InputRequired as needed:
        result: dict[str, Any] = {"resultType": "input_required", "inputRequests": needed.input_requests}
        if needed.request_state is not None:
            result["requestState"] = needed.request_state
        return result
