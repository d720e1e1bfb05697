"""The figures of the operations dashboard and of the developer portal's usage view, from the audit
trail of tool calls the MCP server writes into the database both services share.

Counts (calls, errors, rate-limit hits) come from the hourly counts (audit_hours.py) for the whole
hours of a range that are counted, and from the audit records themselves for the rest: the part
of the first and last hour the range cuts, and the last few minutes. Within those hours, summaries
of the counts (audit_summaries.py: per tool, per client, per day or hour) answer for the whole
days, then hours, they cover when they keep what the figure groups and filters by. A filter by
person reads only the records (the counts keep no person), through their (subject, at) index.

Latency percentiles read the records' durations: exact, on PostgreSQL with percentile_cont; on
SQLite (the embedded default) the same definition (linear interpolation between the two nearest
ranks) computed here from the durations the database returns sorted, one tool at a time. The
dashboard's, over every call, come from hourly and daily histograms instead (audit_latency.py):
within 2.5% of the exact values, and as cheap over a month as over an hour.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Unpack

from sqlalchemy import ColumnElement, Select, and_, func, literal_column, or_, select, text
from sqlalchemy.dialects import postgresql

from authserver import audit_latency, audit_summaries
from authserver.audit_hours import HOUR, NO_LIMIT, AuditHour, counted_until, floor_hour, hour_of, whole_units
from authserver.audit_selection import (
    ERROR_OUTCOMES,
    NO_FILTERS,
    RAN_OUTCOMES,
    RATE_LIMITED,
    Filters,
    TimeRange,
    UsageQueryError,
)
from authserver.models import Client
from mcp_resource.models import AuditRecord
from shared import scopes
from shared.db import db, utcnow

PERCENTILES = (0.5, 0.95, 0.99)
# The developer portal's window, and the one "unused tools" looks back over.
RECENT = timedelta(days=7)
# Sort memory for the percentile query on PostgreSQL: a week of a busy server's durations (about
# 700,000) sorts in memory instead of in temporary files, twice as fast (bench/README.md).
PERCENTILE_WORK_MEM = "64MB"
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
class HourCalls:
    hour: datetime  # the hour's start, UTC
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
    folded = _fold(_tally(("tool",), period, filters, now))
    lines = [ToolCalls(key[0], *counts) for key, counts in folded.items()]
    return sorted(lines, key=lambda line: (-line.calls, line.tool))


def calls_per_client(
    period: TimeRange, filters: Filters = NO_FILTERS, limit: int | None = None, now: datetime | None = None
) -> list[ClientCalls]:
    """Each client that called in `period` with its name, most calls first: with `limit`, the top
    callers."""
    folded = _fold(_tally(("client_id",), period, filters, now))
    ranked = sorted(folded.items(), key=lambda item: (-item[1][0], item[0][0]))[:limit]
    names = client_names(key[0] for key, _ in ranked)
    return [ClientCalls(key[0], names.get(key[0]), *counts) for key, counts in ranked]


def calls_per_hour(period: TimeRange, filters: Filters = NO_FILTERS, now: datetime | None = None) -> list[HourCalls]:
    """One point per UTC hour the range touches, hours without calls included (as zeros)."""
    first = floor_hour(period.start)
    if period.end - first > MAX_SERIES_HOURS * HOUR:
        raise UsageQueryError(f"an hourly series covers at most {MAX_SERIES_HOURS // 24} days")
    folded = _fold(_tally(("hour",), period, filters, now))
    points: list[HourCalls] = []
    hour = first
    while hour < period.end:
        points.append(HourCalls(hour, *folded.get((hour,), (0, 0, 0))))
        hour += HOUR
    return points


def error_rate(period: TimeRange, filters: Filters = NO_FILTERS, now: datetime | None = None) -> ErrorRate:
    """How many calls in `period` were errors; see ERROR_OUTCOMES for what counts as one."""
    by_outcome: dict[str, int] = defaultdict(int)
    for _, outcome, _, calls in _tally((), period, filters, now):
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
    for key, _, kind, calls in _tally(("client_id",), period, replace(filters, outcome=RATE_LIMITED), now):
        hits[key[0], kind] += calls
    ranked = sorted(hits.items(), key=lambda item: (-item[1], item[0]))[:limit]
    names = client_names(client_id for (client_id, _), _ in ranked)
    return [RateLimitHits(client_id, names.get(client_id), kind, n) for (client_id, kind), n in ranked]


def latency_per_tool(period: TimeRange, filters: Filters = NO_FILTERS) -> list[Latency]:
    """P50, P95 and P99 of each tool's durations in `period`, by tool name."""
    return [Latency(tool, calls, *values) for tool, calls, values in _percentiles(period, filters)]


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
    counts = _fold(_tally(("tool",), period, filters, now))
    p95 = {tool: values[1] for tool, _, values in _percentiles(period, filters)}
    tools = [ToolUsage(key[0], *line, p95.get(key[0])) for key, line in counts.items()]
    return ClientUsage(client_id, period, sorted(tools, key=lambda t: (-t.calls, t.tool)))


def client_names(client_ids: Iterable[str]) -> dict[str, str]:
    """The names of the clients that still exist, by client_id."""
    wanted = sorted(set(client_ids))
    if not wanted:
        return {}
    found = db.session.execute(select(Client.client_id, Client.client_name).where(Client.client_id.in_(wanted)))
    return {client_id: name for client_id, name in found}


# One group of calls: its key (the values of the grouping columns), outcome, rate limit, calls.
Tally = tuple[tuple[Any, ...], str, str, int]


def _tally(keys: Sequence[str], period: TimeRange, filters: Filters, now: datetime | None) -> list[Tally]:
    """Calls in `period` grouped by `keys` ("tool", "client_id", "hour"), outcome and rate limit:
    from the summaries of the hourly counts (audit_summaries.py) that keep what the keys and
    filters need, for the whole days, then hours, they cover; from the hourly counts for the rest
    of the whole hours those cover; from the records elsewhere."""
    counted, uncounted = _split(period, filters, now)
    groups: dict[tuple[tuple[Any, ...], str, str], int] = defaultdict(int)
    tables: list[tuple[type[Any], Any, list[tuple[datetime, datetime]]]] = []
    if counted is not None:
        needed = {*keys, *(name for name in _FILTERED if getattr(filters, name) is not None)}
        answered, hourly = audit_summaries.cover(audit_summaries.summaries_holding(needed), [counted])
        tables += [(summary.table, summary.start, spans) for summary, spans in answered]
        tables.append((AuditHour, AuditHour.hour, hourly))
    if uncounted:
        tables.append((AuditRecord, AuditRecord.at, uncounted))
    for table, time, ranges in tables:
        if not ranges:
            continue
        for row in db.session.execute(_counts(table, keys, filters).where(or_(*(and_(time >= a, time < b) for a, b in ranges)))):
            groups[tuple(row[: len(keys)]), row[-3], row[-2]] += int(row[-1])
    return [(key, outcome, kind, calls) for (key, outcome, kind), calls in groups.items()]


def _counts(table: type[Any], keys: Sequence[str], filters: Filters) -> Select[Unpack[tuple[Any, ...]]]:
    """The calls `filters` selects in `table` (the records or a table of counts), grouped by
    `keys`, outcome and rate limit."""
    if table is AuditRecord:
        rest: tuple[Any, ...] = (AuditRecord.outcome, func.coalesce(AuditRecord.rate_limit, NO_LIMIT), func.count())
    else:
        rest = (table.outcome, table.rate_limit, func.sum(table.calls))
    return _grouped(table, [_column(table, key) for key in keys], *rest).where(*_matching(table, filters))


def _split(period: TimeRange, filters: Filters, now: datetime | None) -> tuple[tuple[datetime, datetime] | None, list[tuple[datetime, datetime]]]:
    """The part of `period` the hourly counts answer for, and the parts the records must."""
    if filters.subject is not None:
        return None, [(period.start, period.end)]
    return whole_units(period.start, period.end, HOUR, counted_until(now or utcnow()))


def _grouped(table: type[Any], keys: list[Any], *rest: Any) -> Select[Unpack[tuple[Any, ...]]]:
    """SELECT keys, outcome, rate limit, calls GROUP BY the first columns, by position: an
    expression's bound values would make it differ from its copy in GROUP BY on PostgreSQL."""
    positions: list[ColumnElement[Any]] = [literal_column(str(n)) for n in range(1, len(keys) + 3)]
    return select(*keys, *rest).select_from(table).group_by(*positions)


def _column(table: type[Any], key: str) -> Any:
    if key == "hour" and table is AuditRecord:
        return hour_of(AuditRecord.at)
    return getattr(table, key)


# The filters a table of counts can answer (a filter by person reads only the records).
_FILTERED = ("client_id", "tool", "outcome")


def _matching(table: type[Any], filters: Filters) -> list[ColumnElement[bool]]:
    conditions = []
    for name in (*_FILTERED, "subject"):
        value = getattr(filters, name)
        if value is not None:
            conditions.append(getattr(table, name) == value)
    return conditions


def _fold(tallies: list[Tally]) -> dict[tuple[Any, ...], tuple[int, int, int]]:
    """Per key: calls, errors, rate-limit hits."""
    folded: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0, 0])
    for key, outcome, _, calls in tallies:
        line = folded[key]
        line[0] += calls
        line[1] += calls if outcome in ERROR_OUTCOMES else 0
        line[2] += calls if outcome == RATE_LIMITED else 0
    return {key: (line[0], line[1], line[2]) for key, line in folded.items()}


def _percentiles(period: TimeRange, filters: Filters) -> list[tuple[str, int, tuple[float, float, float]]]:
    """Per tool: how many durations, and their PERCENTILES, as percentile_cont defines them."""
    conditions = [AuditRecord.at >= period.start, AuditRecord.at < period.end, *_matching(AuditRecord, filters)]
    if filters.outcome is None:
        conditions.append(AuditRecord.outcome.in_(RAN_OUTCOMES))
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text(f"SET LOCAL work_mem = '{PERCENTILE_WORK_MEM}'"))  # until the transaction ends
        fractions = postgresql.array(PERCENTILES)
        query = (
            select(AuditRecord.tool, func.count(), func.percentile_cont(fractions).within_group(AuditRecord.duration_ms))
            .where(*conditions)
            .group_by(AuditRecord.tool)
            .order_by(AuditRecord.tool)
        )
        return [(tool, calls, (values[0], values[1], values[2])) for tool, calls, values in db.session.execute(query)]
    durations = select(AuditRecord.tool, AuditRecord.duration_ms).where(*conditions).order_by(AuditRecord.tool, AuditRecord.duration_ms)
    found = []
    for tool, rows in itertools.groupby(db.session.execute(durations), key=lambda row: row[0]):
        ordered = [row[1] for row in rows]
        p50, p95, p99 = (percentile_cont(ordered, fraction) for fraction in PERCENTILES)
        found.append((tool, len(ordered), (p50, p95, p99)))
    return found


def percentile_cont(ordered: Sequence[float], fraction: float) -> float:
    """PostgreSQL's percentile_cont over sorted values: the value at position fraction * (n - 1),
    interpolated linearly between the two values around it."""
    position = fraction * (len(ordered) - 1)
    below, above = math.floor(position), math.ceil(position)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)
