"""The guarded methods (tools/call, resources/read, prompts/get, completion/complete, and
resources/subscribe: a method of the handshake eras, and each URI of a 2026-07-28 listen):
the guardrail steps, in the order they run. This list is the documentation.

    (transport) the bearer token is verified, the body parsed, the era's envelope checked
    1. find                         the method's target (protocol/entries/: one module per method):
                                    -32602 when there is none or the params are malformed
                                    (resources/read: "Resource not found", the era's code)
    2. require_scope                403 insufficient_scope: a step-up challenge naming the scope
                                    (completion/complete: step 1 already treats a ref the token
                                    may not see as unknown)
    3. require_client_capabilities  -32021 (2026-07-28): capabilities the target needs, undeclared
    4. admit                        401 a revoked token, 429 over the client's, the person's or the
                                    target's limit (named), 503 Redis away: one Redis round trip; a
                                    revoked token hears so before any refusal of steps 1-3, and a
                                    refused call is not counted
       then the entry's `resume`    2026-07-28 multi-round-trip retries (tools/call): the request's
                                    requestState checked and spent, -32602 when tampered with,
                                    another caller's or request's, expired or used already (one
                                    Redis command, only for a request that carries one)
    5. run                          the method's work: the tool (or a task for it), the read, the
                                    prompt's messages, the completion's values
    6. audit                        one row per call, whatever its outcome, written by `_audit`;
                                    its `tool` column is the target's `audit_name` (guarded.py)

Steps 1-4 and the resume (`admission`) return an `Admitted` the transport keeps: it answers a refusal before any
stream opens, then runs the call (`run`) in its response, streamed or not. A method joins by one
`Entry` in ENTRIES; the steps are the same for all.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from mcp_resource.asking.request_state import RequestStateRefused
from mcp_resource.errors import (
    Cancelled,
    InsufficientScope,
    InvalidParams,
    InvalidToken,
    JsonRpcError,
    MissingRequiredClientCapability,
    RateLimited,
    ResourceNotFound,
)
from mcp_resource.guardrails import audit, ratelimit, unavailable
from mcp_resource.jsonrpc import Message
from mcp_resource.protocol.context import Context
from mcp_resource.protocol.entries import (
    Admitted,
    Call,
    Entry,
    completion_complete,
    prompts_get,
    resources_read,
    resources_subscribe,
    tools_call,
)

ENTRIES: dict[str, Entry] = {
    entry.method: entry
    for entry in (tools_call.ENTRY, resources_read.ENTRY, resources_subscribe.ENTRY, prompts_get.ENTRY, completion_complete.ENTRY)
}


def entry_of(message: Message) -> Entry | None:
    """The entry of the pipeline that answers this message, if one does (and so checks its token's
    revocation, step 4)."""
    return ENTRIES.get(message.method or "") if message.is_request else None


def require_scope(ctx: Context, call: Call) -> None:
    assert call.target is not None  # noqa: S101 - find ran first
    if call.target.scope not in ctx.principal.scopes:
        raise InsufficientScope(f"The {call.entry.noun} {call.name} needs the scope {call.target.scope}.", scope=call.target.scope)


def require_client_capabilities(ctx: Context, call: Call) -> None:
    assert call.target is not None  # noqa: S101 - find ran first
    missing = [c for c in call.target.requires_client_capabilities if c not in ctx.client_capabilities]
    if ctx.era.checks_required_capabilities and missing:
        raise MissingRequiredClientCapability(
            f"The {call.entry.noun} {call.name} needs the client capabilities: {', '.join(missing)}.",
            data={"requiredCapabilities": {c: {} for c in missing}},
        )


# Steps 1-3 of each method: its own `find`, then the checks every method shares.
CHECKS: dict[str, tuple[Callable[[Context, Call], None], ...]] = {
    method: (entry.find, require_scope, require_client_capabilities) for method, entry in ENTRIES.items()
}

# Each refusal and the outcome its audit row records.
REFUSALS: dict[type[Exception], str] = {
    InvalidParams: "invalid",
    ResourceNotFound: "invalid",
    InsufficientScope: "refused",
    MissingRequiredClientCapability: "invalid",
    InvalidToken: "revoked",
    RateLimited: "rate_limited",
    RequestStateRefused: "invalid",
}
REFUSAL_TYPES = tuple(REFUSALS)


def admission(ctx: Context, entry: Entry, params: dict[str, Any]) -> Admitted:
    """Steps 1-4 of a call to the method of `entry`, and the row of a call they refuse."""
    call = Call.of(entry, params)
    try:
        try:
            for check in CHECKS[entry.method]:
                check(ctx, call)
        except REFUSAL_TYPES:
            ratelimit.admit(ctx.principal)  # step 4 for a refused call: revocation only
            raise
        ratelimit.admit(ctx.principal, call.target)
        entry.resume(ctx, call)
    except Exception as refusal:
        _audit_failure(ctx, call, refusal)
        raise
    return Admitted(call, call.target, call.arguments)  # type: ignore[arg-type]  # find set both


def run(ctx: Context, admitted: Admitted) -> dict[str, Any]:
    """Step 5, then step 6 whatever happened."""
    try:
        entry = admitted.call.entry
        result = entry.run(ctx, admitted)
        _audit(ctx, admitted.call, *entry.outcome(result))
    except Exception as failure:
        _audit_failure(ctx, admitted.call, failure)
        raise
    return result


@contextmanager
def outages_audited(ctx: Context, entry: Entry, params: dict[str, Any]) -> Iterator[None]:
    """Around a transport's own step before admission (a legacy session's lookup): a backing service
    unavailable there refuses the call with 503, audited like a refusal of the steps above."""
    try:
        yield
    except Exception as failure:
        if unavailable.reason(failure) is not None:
            _audit_failure(ctx, Call.of(entry, params), failure)
        raise


def _audit_failure(ctx: Context, call: Call, failure: Exception) -> None:
    """The row of a call that did not answer with a result: a refusal, an outage (503), a
    cancellation, a fault of ours. Without the database, the call is counted and logged instead;
    a refusal is then answered with 503, since it cannot be recorded."""
    if not unavailable.auditable(failure):
        unavailable.unaudited(call.audit_name(), failure)
        return
    outage = unavailable.reason(failure)
    try:
        rate_limit = failure.limited_by if isinstance(failure, RateLimited) else None
        _audit(ctx, call, *_failure_outcome(failure, outage), rate_limit)
    except audit.AuditUnavailable as unrecorded:
        unavailable.unaudited(call.audit_name(), unrecorded)
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
    """Step 6: the one place a guarded call's audit row is written; `rate_limit` names the limit a
    `rate_limited` call was over."""
    caller = audit.Caller(ctx.principal.client_id, ctx.principal.subject, ctx.request_id, ctx.ip, ctx.session_id)
    elapsed_ms = (time.perf_counter() - ctx.started) * 1000
    audit.record(caller, call.audit_name(), call.target, call.arguments, outcome, elapsed_ms, error, rate_limit)
