"""tools/call in both eras: the guardrail steps, in the order they run. This list is the documentation.

    (transport) the bearer token is verified, the body parsed, the era's envelope checked
    1. find_tool                    -32602: no such tool, or arguments that are not an object
    2. require_scope                403 insufficient_scope: a step-up challenge naming the scope
    3. require_client_capabilities  -32021 (2026-07-28): capabilities the tool needs, undeclared
    4. admit                        401 a revoked token, 429 over the client's, the person's or the
                                    tool's limit (named), 503 Redis away: one Redis round trip; a
                                    revoked token hears so before any refusal of steps 1-3, and a
                                    refused call is not counted
    5. run                          the tool, or a task for it (2026-07-28 tasks extension)
    6. audit                        one row per call, whatever its outcome, written by `_audit`

Steps 1-4 (`admission`) return an `Admitted` the transport keeps: it answers a refusal before any
stream opens, then runs the call (`run`) in its response, streamed or not.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from mcp_resource import tasks
from mcp_resource.errors import (
    Cancelled,
    InputRequired,
    InsufficientScope,
    InvalidParams,
    InvalidToken,
    JsonRpcError,
    MissingRequiredClientCapability,
    NeedsNewerProtocol,
    RateLimited,
)
from mcp_resource.guardrails import audit, ratelimit, unavailable
from mcp_resource.jsonrpc import Message
from mcp_resource.protocol.context import Context
from mcp_resource.tools.base import Tool, ToolCall


@dataclass
class Call:
    """One tools/call as the steps see it: what it names, and the tool once found."""

    name: Any
    arguments: Any
    tool: Tool | None = None

    @classmethod
    def of(cls, params: dict[str, Any]) -> Call:
        return cls(params.get("name"), params.get("arguments", {}))


@dataclass(frozen=True)
class Admitted:
    """A call that passed steps 1-4: it runs, and nothing refuses it any more."""

    call: Call
    tool: Tool
    arguments: dict[str, Any]


def guards(message: Message) -> bool:
    """Whether the pipeline answers this message, and so checks its token's revocation (step 4)."""
    return message.method == "tools/call" and message.is_request


def find_tool(ctx: Context, call: Call) -> None:
    if not isinstance(call.name, str):
        raise InvalidParams('Invalid params: "name" must be the name of a tool from tools/list.')
    call.tool = ctx.tools.get(call.name)
    if not isinstance(call.arguments, dict):
        raise InvalidParams('Invalid params: "arguments" must be an object.')
    if call.tool is None:
        raise InvalidParams(f"Unknown tool: {call.name}. Call tools/list for the tools you can use.")


def require_scope(ctx: Context, call: Call) -> None:
    assert call.tool is not None  # noqa: S101 - find_tool ran first
    if call.tool.scope not in ctx.principal.scopes:
        raise InsufficientScope(f"The tool {call.name} needs the scope {call.tool.scope}.", scope=call.tool.scope)


def require_client_capabilities(ctx: Context, call: Call) -> None:
    assert call.tool is not None  # noqa: S101 - find_tool ran first
    missing = [c for c in call.tool.requires_client_capabilities if c not in ctx.client_capabilities]
    if ctx.era.checks_required_capabilities and missing:
        raise MissingRequiredClientCapability(
            f"The tool {call.name} needs the client capabilities: {', '.join(missing)}.",
            data={"requiredCapabilities": {c: {} for c in missing}},
        )


CHECKS: tuple[Callable[[Context, Call], None], ...] = (find_tool, require_scope, require_client_capabilities)

# Each refusal and the outcome its audit row records.
REFUSALS: dict[type[Exception], str] = {
    InvalidParams: "invalid",
    InsufficientScope: "refused",
    MissingRequiredClientCapability: "invalid",
    InvalidToken: "revoked",
    RateLimited: "rate_limited",
}
REFUSAL_TYPES = tuple(REFUSALS)


def admission(ctx: Context, params: dict[str, Any]) -> Admitted:
    """Steps 1-4, and the row of a call they refuse."""
    call = Call.of(params)
    try:
        try:
            for check in CHECKS:
                check(ctx, call)
        except REFUSAL_TYPES:
            ratelimit.admit(ctx.principal)  # step 4 for a refused call: revocation only
            raise
        ratelimit.admit(ctx.principal, call.tool)
    except Exception as refusal:
        _audit_failure(ctx, call, refusal)
        raise
    return Admitted(call, call.tool, call.arguments)  # type: ignore[arg-type]  # find_tool set both


def run(ctx: Context, admitted: Admitted) -> dict[str, Any]:
    """Step 5, then step 6 whatever happened."""
    try:
        result = _result(ctx, admitted)
        _audit(ctx, admitted.call, *_outcome(result))
    except Exception as failure:
        _audit_failure(ctx, admitted.call, failure)
        raise
    return result


@contextmanager
def outages_audited(ctx: Context, params: dict[str, Any]) -> Iterator[None]:
    """Around a transport's own step before admission (a legacy session's lookup): a backing service
    unavailable there refuses the call with 503, audited like a refusal of the steps above."""
    try:
        yield
    except Exception as failure:
        if unavailable.reason(failure) is not None:
            _audit_failure(ctx, Call.of(params), failure)
        raise


def _result(ctx: Context, admitted: Admitted) -> dict[str, Any]:
    tool, arguments = admitted.tool, admitted.arguments
    if ctx.era.offers_tasks and tool.runs_as_job() and tasks.declared(ctx.client_capabilities):
        return tasks.create(ctx.principal, tool, arguments)
    call = ToolCall(
        principal=ctx.principal,
        request_id=ctx.request_id,
        progress=ctx.progress,
        cancelled=ctx.cancelled,
        close_stream=ctx.close_stream,
        log_sink=ctx.log_sink,
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


def _outcome(result: dict[str, Any]) -> tuple[str, str | None]:
    """The outcome and error of a call that answered with `result`."""
    if result.get("resultType") == "task":
        return "task_created", None
    if result.get("resultType") == "input_required":
        return "ok", "input required"
    if result["isError"]:
        return "tool_error", result["content"][0].get("text") if result["content"] else None
    return "ok", None


def _audit_failure(ctx: Context, call: Call, failure: Exception) -> None:
    """The row of a call that did not answer with a result: a refusal, an outage (503), a
    cancellation, a fault of ours. Without the database, the call is counted and logged instead;
    a refusal is then answered with 503, since it cannot be recorded."""
    if not unavailable.auditable(failure):
        unavailable.unaudited(str(call.name), failure)
        return
    outage = unavailable.reason(failure)
    try:
        rate_limit = failure.limited_by if isinstance(failure, RateLimited) else None
        _audit(ctx, call, *_failure_outcome(failure, outage), rate_limit)
    except audit.AuditUnavailable as unrecorded:
        unavailable.unaudited(str(call.name), unrecorded)
        if outage is None:
            raise


def _failure_outcome(failure: Exception, outage: str | None) -> tuple[str, str]:
    if outage is not None:
        return unavailable.OUTCOME, outage
    refused = REFUSALS.get(type(failure))
    if refused is not None:
        return refused, str(failure)
    if isinstance(failure, Cancelled):
        return "failed", "cancelled by the client"
    if isinstance(failure, JsonRpcError):
        return "failed", failure.message
    return "failed", "internal error"


def _audit(ctx: Context, call: Call, outcome: str, error: str | None, rate_limit: str | None = None) -> None:
    """Step 6: the one place a tools/call's audit row is written; `rate_limit` names the limit a
    `rate_limited` call was over."""
    caller = audit.Caller(ctx.principal.client_id, ctx.principal.subject, ctx.request_id, ctx.ip, ctx.session_id)
    elapsed_ms = (time.perf_counter() - ctx.started) * 1000
    audit.record(caller, str(call.name), call.tool, call.arguments, outcome, elapsed_ms, error, rate_limit)
