"""Tool calls refused with 503 because a backing service is unavailable: audited like every other
refusal when the database takes the row; counted and logged instead when it cannot."""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import current_app, g, request

from mcp_resource.guardrails import audit
from shared import metrics
from shared.db import unavailable as database_unavailable

logger = logging.getLogger(__name__)

OUTCOME = "unavailable"


def note_tool_call(params: dict[str, Any]) -> None:
    """Remember the authenticated caller's tools/call, so a 503 answered for it can be audited."""
    g.tool_call = (params, time.perf_counter())


def record(cause: BaseException, reason: str) -> None:
    """The audit row (outcome `unavailable`, `reason` as its error) of this request's tools/call
    refused with 503, or, with no database to write it to, the `drawbridge_unaudited_calls` metric
    and a `tool_call_unaudited` log line."""
    noted = g.pop("tool_call", None)
    if noted is None:
        return
    params, started = noted
    tool_name = str(params.get("name"))[: audit.TOOL_MAX_CHARS]
    if isinstance(cause, audit.AuditUnavailable) or database_unavailable(cause):
        return _unaudited(tool_name, cause)
    principal = g.principal  # note_tool_call is only called after authentication
    caller = audit.Caller(principal.client_id, principal.subject, g.get("request_id", ""), request.remote_addr, request.headers.get("Mcp-Session-Id"))
    tool = current_app.extensions["drawbridge.tools"].get(tool_name)
    duration_ms = (time.perf_counter() - started) * 1000
    try:
        audit.record(caller, tool_name, tool, params.get("arguments"), OUTCOME, duration_ms, reason)
    except audit.AuditUnavailable as failure:
        _unaudited(tool_name, failure)


def _unaudited(tool_name: str, cause: BaseException) -> None:
    """Neither arguments nor token: the request id and client (added to every line), the tool, why."""
    metrics.UNAUDITED_CALLS.inc()
    logger.error("tool_call_unaudited", extra={"tool": tool_name, "cause": type(cause).__name__})
