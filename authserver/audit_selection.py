"""Which audit records a figure or a listing covers: a time range and filters, checked, and what
each outcome counts as."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.db import utcnow

# Every outcome the MCP server records (mcp_resource/protocol/pipeline.py, guardrails/unavailable.py).
OUTCOMES = ("ok", "tool_error", "refused", "rate_limited", "invalid", "task_created", "failed", "revoked", "unavailable")
# Calls that went wrong: the tool answered with an error (tool_error), broke or was cancelled
# (failed), was asked for something it cannot do (invalid: no such tool, bad parameters, a
# capability the client lacks), or could not be served (unavailable: our database or Redis was
# down). Refusals by policy are not errors: a missing scope (refused), a revoked token (revoked)
# and a limit reached (rate_limited) are the guardrails doing their job, counted on their own.
ERROR_OUTCOMES = frozenset({"tool_error", "failed", "invalid", "unavailable"})
# Calls whose duration is the tool's work: the latency percentiles read only these (a refusal's
# duration, a fraction of a millisecond, says nothing about a tool).
RAN_OUTCOMES = ("ok", "tool_error", "task_created", "failed")
RATE_LIMITED = "rate_limited"


class UsageQueryError(ValueError):
    """A range, filter or cursor that names nothing we can answer for; its text says what is wrong."""


@dataclass(frozen=True)
class TimeRange:
    """[start, end): from `start` included to `end` excluded, both timezone-aware."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise UsageQueryError("a time range needs timezone-aware times (UTC)")
        if self.start >= self.end:
            raise UsageQueryError(f"the range's start ({self.start.isoformat()}) is not before its end ({self.end.isoformat()})")

    @classmethod
    def last(cls, span: timedelta, now: datetime | None = None) -> TimeRange:
        """The `span` up to `now`."""
        end = now or utcnow()
        return cls(end - span, end)


@dataclass(frozen=True)
class Filters:
    """Only the calls of this client, this person (the token's subject), this tool, this outcome."""

    client_id: str | None = None
    subject: str | None = None
    tool: str | None = None
    outcome: str | None = None

    def __post_init__(self) -> None:
        if self.outcome is not None and self.outcome not in OUTCOMES:
            raise UsageQueryError(f"unknown outcome {self.outcome!r}; one of {', '.join(OUTCOMES)}")


NO_FILTERS = Filters()
