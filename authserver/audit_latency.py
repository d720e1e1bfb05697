"""Hourly latency histograms of the audit trail, so the dashboard's P50/P95/P99 per tool cost what
its counts cost, over a week or a month as over an hour: the table, how it catches up, and the
percentiles read from it.

A call's duration falls in bucket k = floor(ln(ms) / ln(BUCKET_BASE)), which holds
[BUCKET_BASE**k, BUCKET_BASE**(k+1)) ms; a bucket stands for its geometric middle. So each value a
percentile is drawn from is off by at most RELATIVE_ERROR of itself, and so is the percentile
(percentile_cont's interpolation between two such values keeps the bound). Durations under
MIN_DURATION_MS count as MIN_DURATION_MS. Only the calls whose duration is a tool's work are kept
(RAN_OUTCOMES), as for the exact percentiles (usage.latency_per_tool).

Filled on read like the hourly counts (audit_hours.py: same delay, same bounded catch-up, same
race-safe INSERT ... SELECT ... GROUP BY), with its own record of how far it got: after an upgrade
it starts empty while the counts do not. Summed per day in turn (audit_latency_days,
audit_summaries.py): a tool's day is about 80 rows instead of 24 hours of about 47.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    ColumnExpressionArgument,
    Integer,
    SmallInteger,
    String,
    and_,
    cast,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from authserver.audit_hours import HOUR, Rollup, counted_until, hour_of, insert_counted, whole_units
from authserver.audit_selection import RAN_OUTCOMES, TimeRange
from authserver.audit_summaries import Summary, cover
from mcp_resource.models import AuditRecord
from shared.db import Model, UTCDateTime, db

# Each bucket is 5% wider than the one below it: about 80 buckets hold 2 ms to 100 ms.
BUCKET_BASE = 1.05
RELATIVE_ERROR = math.sqrt(BUCKET_BASE) - 1  # 2.47%
MIN_DURATION_MS = 0.001


class AuditLatencyHour(Model):
    """How many calls of one tool in one UTC hour took a duration in one bucket."""

    __tablename__ = "audit_latency_hours"

    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    tool: Mapped[str] = mapped_column(String(128), primary_key=True)
    bucket: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    calls: Mapped[int]


def bucket_of(duration_ms: ColumnExpressionArgument[float]) -> ColumnElement[int]:
    """The bucket of a duration, computed by the database."""
    floor = func.greatest if db.session.get_bind().dialect.name == "postgresql" else func.max  # SQLite's two-argument max
    return cast(func.floor(func.ln(floor(duration_ms, MIN_DURATION_MS)) / math.log(BUCKET_BASE)), Integer)


def bucket_value(bucket: int) -> float:
    """What a bucket's durations are taken to be: its geometric middle, in ms."""
    return float(BUCKET_BASE ** (bucket + 0.5))


def count_latency_hours(start: datetime, end: datetime) -> int:
    """Add the histograms of the hours from `start` to `end` (whole hours); returns how many rows
    were added (an hour another reader added meanwhile is left as it is)."""
    histogram = (
        select(hour_of(AuditRecord.at), AuditRecord.tool, bucket_of(AuditRecord.duration_ms), func.count())
        .where(AuditRecord.at >= start, AuditRecord.at < end, AuditRecord.outcome.in_(RAN_OUTCOMES))
        .group_by(*(literal_column(str(n)) for n in range(1, 4)))  # by position: see audit_counts._grouped
    )
    return insert_counted(AuditLatencyHour, ["hour", "tool", "bucket", "calls"], histogram, start, end)


LATENCY = Rollup(AuditLatencyHour, count_latency_hours, (AuditRecord.outcome.in_(RAN_OUTCOMES),))


class AuditLatencyDay(Model):
    """How many calls of one tool in one UTC day took a duration in one bucket: the sum of its
    hours (audit_summaries.py)."""

    __tablename__ = "audit_latency_days"

    day: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    tool: Mapped[str] = mapped_column(String(128), primary_key=True)
    bucket: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    calls: Mapped[int]


LATENCY_DAYS = Summary(AuditLatencyDay, "day", AuditLatencyHour, ("tool", "bucket"))

# Per tool: its buckets and how many calls fell in each.
Histograms = dict[str, dict[int, int]]


def histograms(period: TimeRange, tool: str | None = None, now: datetime | None = None) -> Histograms:
    """Each tool's histogram over `period` (or only `tool`'s): the whole days already summed from
    audit_latency_days, the other whole hours already counted from audit_latency_hours, the rest
    (the cut first and last hours, the last minutes) from the records."""
    counted, edges = whole_units(period.start, period.end, HOUR, counted_until(now, rollup=LATENCY))
    levels: list[tuple[Any, Any, list[tuple[datetime, datetime]]]] = []
    if counted is not None:
        answered, hourly = cover([LATENCY_DAYS], [counted])
        levels += [(summary.table, summary.start, spans) for summary, spans in answered]
        levels.append((AuditLatencyHour, AuditLatencyHour.hour, hourly))
    found: Histograms = defaultdict(lambda: defaultdict(int))
    for table, time, ranges in levels:
        if ranges:
            rows = select(table.tool, table.bucket, func.sum(table.calls)).where(or_(*(and_(time >= a, time < b) for a, b in ranges)))
            if tool is not None:
                rows = rows.where(table.tool == tool)
            _add(found, db.session.execute(rows.group_by(table.tool, table.bucket)))
    if edges:
        records = select(AuditRecord.tool, bucket_of(AuditRecord.duration_ms), func.count()).where(
            or_(*(and_(AuditRecord.at >= a, AuditRecord.at < b) for a, b in edges)), AuditRecord.outcome.in_(RAN_OUTCOMES)
        )
        if tool is not None:
            records = records.where(AuditRecord.tool == tool)
        _add(found, db.session.execute(records.group_by(literal_column("1"), literal_column("2"))))
    return found


def percentile(histogram: dict[int, int], fraction: float) -> float:
    """percentile_cont of the durations a histogram counts, each taken as its bucket's value."""
    ordered = sorted(histogram.items())
    calls = sum(n for _, n in ordered)
    position = fraction * (calls - 1)
    below, above = _value_at(ordered, math.floor(position)), _value_at(ordered, math.ceil(position))
    return below + (above - below) * (position - math.floor(position))


def _value_at(ordered: list[tuple[int, int]], rank: int) -> float:
    """The value of the call at `rank` (from 0) in buckets sorted by bucket."""
    seen = 0
    for bucket, calls in ordered:
        seen += calls
        if rank < seen:
            return bucket_value(bucket)
    raise ValueError(f"rank {rank} is past the histogram's {seen} calls")


def _add(found: Histograms, rows: Iterable[tuple[str, int, int]]) -> None:
    for tool, bucket, calls in rows:
        found[tool][int(bucket)] += int(calls)
