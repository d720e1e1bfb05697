"""Tool calls refused with 503 because a backing service is unavailable: which failures those are,
and what becomes of their record. Such a refusal is audited like every other (protocol/pipeline.py
writes the row); when the database cannot take the row, it is counted and logged instead."""

from __future__ import annotations

import logging

import redis

from mcp_resource.guardrails.audit import AuditUnavailable
from mcp_resource.guardrails.ratelimit import LimiterUnavailable
from shared import metrics
from shared.db import unavailable as database_unavailable

logger = logging.getLogger(__name__)

OUTCOME = "unavailable"


def reason(cause: BaseException) -> str | None:
    """Why a call failing with `cause` is refused with 503 (its audit row's error), or None when
    `cause` is no outage."""
    if isinstance(cause, LimiterUnavailable):
        return "rate limiter unavailable"
    if isinstance(cause, AuditUnavailable):
        return "audit unavailable"
    if isinstance(cause, redis.RedisError):
        return "redis unavailable"
    if database_unavailable(cause):
        return "database unavailable"
    return None


def auditable(cause: BaseException) -> bool:
    """Whether the refusal's row can be written: not when the database, or its writer, is the cause."""
    return not (isinstance(cause, AuditUnavailable) or database_unavailable(cause))


def unaudited(tool_name: str, cause: BaseException) -> None:
    """Neither arguments nor token: the request id and client (added to every line), the tool, why."""
    metrics.UNAUDITED_CALLS.inc()
    logger.error("tool_call_unaudited", extra={"tool": tool_name, "cause": type(cause).__name__})
