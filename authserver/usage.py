"""The figures of the operations dashboard and of the developer portal's usage view, from the audit
trail of tool calls the MCP server writes into the database both services share.

Counts (calls, errors, rate-limit hits) come from audit_counts.py, which reads each part of a range
from the cheapest table that answers it. Exact latency percentiles come from the records
(audit_percentiles.py); the dashboard's, over every call, from hourly and daily histograms instead
(audit_latency.py): within 2.5% of the exact values, and as cheap over a month as over an hour.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import select

from authserver import audit_latency
from authserver.audit_counts import fold, tally
from authserver.audit_hours import HOUR, floor_hour
from authserver.audit_percentiles import PERCENTILES, exact_percentiles
from authserver.audit_selection import ERROR_OUTCOMES, NO_FILTERS, RATE_LIMITED, Filters, TimeRange, UsageQueryError
from authserver.models import Client
from mcp_resource.models import AuditRecord
from shared import scopes
from shared.db import db

# The developer portal's window, and the one "unused tools" looks back over.
RECENT = timedelta(days=7)
# The hourly series has a point per hour: a range is at most this long (a year of points).
MAX_SERIES_HOURS = 366 * 24


@dataclass(frozen=True)
class ToolCalls:
    tool: str
    calls: int
    errors: int
    rate_limited: int


@dataclass(frozen=True)
class ClientCalls:
    client_id: str
    client_name: str | None  # None: the client was deleted; its calls keep its id
    calls: int
    errors: int
    rate_limited: int

    @property
    def label(self) -> str:
        return self.client_name or self.client_id


@dataclass(frozen=True)
class PeriodCalls:
    """One point of a series: the calls in one UTC hour or day."""

    start: datetime  # the hour's or day's start, UTC
    calls: int
    errors: int
    rate_limited: int


@dataclass(frozen=True)
class ErrorRate:
    """Errors (ERROR_OUTCOMES) among all calls, and every outcome's count."""

    calls: int
    errors: int
    by_outcome: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.errors / self.calls if self.calls else 0.0


@dataclass(frozen=True)
class Latency:
    """A tool's durations in milliseconds, over RAN_OUTCOMES unless the filter names an outcome."""

    tool: str
    calls: int
    p50_ms: float
    p95_ms: float
    p99_ms: float


@dataclass(frozen=True)
class RateLimitHits:
    """Calls of one client refused by one of its limits: `limit` is client, person or tool."""

    client_id: str
    client_name: str | None
    limit: str
    hits: int


@dataclass(frozen=True)
class ToolUsage:
    """One tool's line in a client's usage: p95 over the calls that ran (None if none ran)."""

    tool: str
    calls: int
    errors: int
    rate_limited: int
    p95_ms: float | None


@dataclass(frozen=True)
class ClientUsage:
    """A client's calls over `period` (the developer portal's last 7 days), per tool and in all."""

    client_id: str
    period: TimeRange
    tools: list[ToolUsage]

    @property
    def calls(self) -> int:
        return sum(t.calls for t in self.tools)

    @property
    def errors(self) -> int:
        return sum(t.errors for t in self.tools)

    @property
    def rate_limited(self) -> int:
        return sum(t.rate_limited for t in self.tools)


def calls_per_tool(period: TimeRange, filters: Filters = NO_FILTERS, now: datetime | None = None) -> list[ToolCalls]:
    """Each tool called in `period`, most called first."""
    folded = fold(tally(("tool",), period, filters, now))
    lines = [ToolCalls(key[0], *counts) for key, counts in folded.items()]
    return sorted(lines, key=lambda line: (-line.calls, line.tool))


def calls_per_client(
    period: TimeRange, filters: Filters = NO_FILTERS, limit: int | None = None, now: datetime | None = None
) -> list[ClientCalls]:
    """Each client that called in `period` with its name, most calls first: with `limit`, the top
    callers."""
    folded = fold(tally(("client_id",), period, filters, now))
    ranked = sorted(folded.items(), key=lambda item: (-item[1][0], item[0][0]))[:limit]
    names = client_names(key[0] for key, _ in ranked)
    return [ClientCalls(key[0], names.get(key[0]), *counts) for key, counts in ranked]


def calls_per_hour(period: TimeRange, filters: Filters = NO_FILTERS, now: datetime | None = None) -> list[PeriodCalls]:
    """One point per UTC hour the range touches, hours without calls included (as zeros)."""
    first = floor_hour(period.start)
    if period.end - first > MAX_SERIES_HOURS * HOUR:
        raise UsageQueryError(f"an hourly series covers at most {MAX_SERIES_HOURS // 24} days")
    folded = fold(tally(("hour",), period, filters, now))
    points: list[PeriodCalls] = []
    hour = first
    while hour < period.end:
        points.append(PeriodCalls(hour, *folded.get((hour,), (0, 0, 0))))
        hour += HOUR
    return points


def calls_per_day(period: TimeRange, filters: Filters = NO_FILTERS, now: datetime | None = None) -> list[PeriodCalls]:
    """One point per UTC day the range touches (the hourly series added up): the first and last
    hold only their part of the range."""
    days: dict[datetime, list[int]] = {}
    for point in calls_per_hour(period, filters, now):
        totals = days.setdefault(point.start.replace(hour=0), [0, 0, 0])
        totals[0] += point.calls
        totals[1] += point.errors
        totals[2] += point.rate_limited
    return [PeriodCalls(day, *totals) for day, totals in days.items()]


def error_rate(period: TimeRange, filters: Filters = NO_FILTERS, now: datetime | None = None) -> ErrorRate:
    """How many calls in `period` were errors; see ERROR_OUTCOMES for what counts as one."""
    by_outcome: dict[str, int] = defaultdict(int)
    for _, outcome, _, calls in tally((), period, filters, now):
        by_outcome[outcome] += calls
    errors = sum(n for outcome, n in by_outcome.items() if outcome in ERROR_OUTCOMES)
    return ErrorRate(sum(by_outcome.values()), errors, dict(sorted(by_outcome.items())))


def rate_limit_hits(
    period: TimeRange, filters: Filters = NO_FILTERS, limit: int | None = None, now: datetime | None = None
) -> list[RateLimitHits]:
    """Calls refused by a rate limit, per client and per limit (client, person, tool), most first:
    the runaway agents."""
    if filters.outcome not in (None, RATE_LIMITED):
        return []
    hits: dict[tuple[str, str], int] = defaultdict(int)
    for key, _, kind, calls in tally(("client_id",), period, replace(filters, outcome=RATE_LIMITED), now):
        hits[key[0], kind] += calls
    ranked = sorted(hits.items(), key=lambda item: (-item[1], item[0]))[:limit]
    names = client_names(client_id for (client_id, _), _ in ranked)
    return [RateLimitHits(client_id, names.get(client_id), kind, n) for (client_id, kind), n in ranked]


def latency_per_tool(period: TimeRange, filters: Filters = NO_FILTERS) -> list[Latency]:
    """P50, P95 and P99 of each tool's durations in `period`, by tool name."""
    return [Latency(tool, calls, *values) for tool, calls, values in exact_percentiles(period, filters)]


def estimated_latency_per_tool(period: TimeRange, now: datetime | None = None) -> list[Latency]:
    """P50, P95 and P99 of each tool's durations in `period`, by tool name, from the hourly
    histograms: each within audit_latency.RELATIVE_ERROR of what latency_per_tool gives."""
    found = audit_latency.histograms(period, now=now)
    return [
        Latency(tool, sum(found[tool].values()), *(audit_latency.percentile(found[tool], fraction) for fraction in PERCENTILES))
        for tool in sorted(found)
    ]


def unused_tools(now: datetime | None = None) -> list[str]:
    """The installed tools (shared/scopes.py: the drawbridge.tools entry points) that nobody called
    in the last 7 days, whatever the outcome: not even a refused call. One probe of the (tool, at)
    index per tool."""
    period = TimeRange.last(RECENT, now)
    return [
        name
        for name in scopes.tool_names()
        if db.session.scalar(
            select(AuditRecord.id).where(AuditRecord.tool == name, AuditRecord.at >= period.start, AuditRecord.at < period.end).limit(1)
        )
        is None
    ]


def client_usage(client_id: str, now: datetime | None = None) -> ClientUsage:
    """One client's last 7 days, per tool: calls, errors, rate-limit hits, p95 latency."""
    period = TimeRange.last(RECENT, now)
    filters = Filters(client_id=client_id)
    counts = fold(tally(("tool",), period, filters, now))
    p95 = {tool: values[1] for tool, _, values in exact_percentiles(period, filters)}
    tools = [ToolUsage(key[0], *line, p95.get(key[0])) for key, line in counts.items()]
    return ClientUsage(client_id, period, sorted(tools, key=lambda t: (-t.calls, t.tool)))


def client_names(client_ids: Iterable[str]) -> dict[str, str]:
    """The names of the clients that still exist, by client_id."""
    wanted = sorted(set(client_ids))
    if not wanted:
        return {}
    found = db.session.execute(select(Client.client_id, Client.client_name).where(Client.client_id.in_(wanted)))
    return {client_id: name for client_id, name in found}
