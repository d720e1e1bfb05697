"""Summaries of the hourly rollups, so a month of the dashboard reads thousands of rows, not a
million: per day and per hour, the counts per tool and per client separately (the dashboard's
figures are those margins, not the clients × tools grid the hourly counts keep); per hour, the
counts of all calls per outcome (the dashboard's hourly series); per day, each tool's latency
histogram (audit_latency.py). A range reads the days it covers whole, then the hours.

Added on read from the hourly tables, never from the records, like the hours themselves
(audit_hours.py: same race-safe INSERT ... SELECT ... GROUP BY): a day or an hour is summed once
every hour of it is counted, so it never changes after. A summary is a cache of the hourly rows,
exact: readers take it for the whole days (or hours) of a range it covers, the hourly rows for the
rest (summarized_until). A read adds at most MAX_SPAN_PER_READ, so the first read after an upgrade
does not wait for months of hours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, func, literal_column, select
from sqlalchemy.orm import Mapped, mapped_column

from authserver.audit_hours import HOUR, UNITS, AuditHour, floor_to, insert_counted, start_of, whole_units
from shared.db import Model, UTCDateTime, db

# At 4,000 calls an hour, a week of hourly counts is about 230,000 rows to sum: a second or so.
MAX_SPAN_PER_READ = timedelta(days=7)


class AuditDayTool(Model):
    """Calls of one tool in one UTC day, per outcome and the limit that refused them."""

    __tablename__ = "audit_day_tools"

    day: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    tool: Mapped[str] = mapped_column(String(128), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(20), primary_key=True)
    rate_limit: Mapped[str] = mapped_column(String(10), primary_key=True)
    calls: Mapped[int]


class AuditDayClient(Model):
    """Calls of one client in one UTC day, per outcome and the limit that refused them."""

    __tablename__ = "audit_day_clients"

    day: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(20), primary_key=True)
    rate_limit: Mapped[str] = mapped_column(String(10), primary_key=True)
    calls: Mapped[int]


class AuditHourTool(Model):
    """Calls of one tool in one UTC hour, per outcome and the limit that refused them."""

    __tablename__ = "audit_hour_tools"

    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    tool: Mapped[str] = mapped_column(String(128), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(20), primary_key=True)
    rate_limit: Mapped[str] = mapped_column(String(10), primary_key=True)
    calls: Mapped[int]


class AuditHourClient(Model):
    """Calls of one client in one UTC hour, per outcome and the limit that refused them."""

    __tablename__ = "audit_hour_clients"

    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(20), primary_key=True)
    rate_limit: Mapped[str] = mapped_column(String(10), primary_key=True)
    calls: Mapped[int]


class AuditHourOutcome(Model):
    """All calls in one UTC hour, per outcome and the limit that refused them."""

    __tablename__ = "audit_hour_outcomes"

    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    outcome: Mapped[str] = mapped_column(String(20), primary_key=True)
    rate_limit: Mapped[str] = mapped_column(String(10), primary_key=True)
    calls: Mapped[int]


@dataclass(frozen=True)
class Summary:
    """A table of an hourly table's calls summed per `unit` ("hour" or "day": also the name of its
    time column), keeping the columns `keys` (the rest are summed over)."""

    table: Any
    unit: str
    source: Any
    keys: tuple[str, ...]

    @property
    def span(self) -> timedelta:
        return UNITS[self.unit][0]

    @property
    def start(self) -> Any:
        return getattr(self.table, self.unit)

    def holds(self, columns: set[str]) -> bool:
        """Whether the summary keeps every one of these columns."""
        return columns <= {self.unit, *self.keys}


DAY_TOOLS = Summary(AuditDayTool, "day", AuditHour, ("tool", "outcome", "rate_limit"))
DAY_CLIENTS = Summary(AuditDayClient, "day", AuditHour, ("client_id", "outcome", "rate_limit"))
HOUR_OUTCOMES = Summary(AuditHourOutcome, "hour", AuditHour, ("outcome", "rate_limit"))
HOUR_TOOLS = Summary(AuditHourTool, "hour", AuditHour, ("tool", "outcome", "rate_limit"))
HOUR_CLIENTS = Summary(AuditHourClient, "hour", AuditHour, ("client_id", "outcome", "rate_limit"))
# The counts' summaries, per unit the one with the fewest rows first.
COUNT_SUMMARIES = (DAY_TOOLS, DAY_CLIENTS, HOUR_OUTCOMES, HOUR_TOOLS, HOUR_CLIENTS)

Span = tuple[datetime, datetime]


def summaries_holding(columns: set[str]) -> list[Summary]:
    """The counts' summaries to read for a figure that needs these columns: per unit, days first,
    the first one that keeps them all."""
    chain = (next((s for s in COUNT_SUMMARIES if s.unit == unit and s.holds(columns)), None) for unit in ("day", "hour"))
    return [summary for summary in chain if summary is not None]


def cover(summaries: Sequence[Summary], spans: list[Span]) -> tuple[list[tuple[Summary, list[Span]]], list[Span]]:
    """The parts of `spans` (whole counted hours) each summary answers for, in turn: its whole
    days (or hours) summed so far; and the parts none does, for the hourly table."""
    answered = []
    for summary in summaries:
        until = summarized_until(summary)
        summed, rest = [], []
        for start, end in spans:
            whole, around = whole_units(start, end, summary.span, until)
            summed += [whole] if whole is not None else []
            rest += around
        if summed:
            answered.append((summary, summed))
        spans = rest
    return answered, spans


def summarized_until(summary: Summary) -> datetime | None:
    """Catch up with the hours counted so far (at most MAX_SPAN_PER_READ), then the end of the last
    day (or hour) summed: every hourly row before it is in the summary, none after it. None when
    nothing is summed yet. Call after the source's catch-up (audit_hours.counted_until)."""
    catch_up(summary, MAX_SPAN_PER_READ)
    last = db.session.scalar(select(func.max(summary.start)))
    return None if last is None else last + summary.span


def catch_up(summary: Summary, max_span: timedelta | None) -> int:
    """Sum the days (or hours) whose every hour is counted and that are not summed yet (at most
    `max_span` of them; None: all); returns how many rows were added."""
    counted = db.session.scalar(select(func.max(summary.source.hour)))
    if counted is None:
        return 0
    last = db.session.scalar(select(func.max(summary.start)))
    # From the first hour not summed yet: days without calls in between have no rows to add.
    unsummed = select(func.min(summary.source.hour))
    if last is not None:
        unsummed = unsummed.where(summary.source.hour >= last + summary.span)
    first = db.session.scalar(unsummed)
    if first is None:
        return 0
    start, end = floor_to(first, summary.span), floor_to(counted + HOUR, summary.span)
    if max_span is not None:  # whole days (or hours), one at least: a day is summed all at once or not at all
        end = min(end, start + max(max_span // summary.span, 1) * summary.span)
    if start >= end:
        return 0
    sums = (
        select(start_of(summary.unit, summary.source.hour), *(getattr(summary.source, key) for key in summary.keys), func.sum(summary.source.calls))
        .where(summary.source.hour >= start, summary.source.hour < end)  # SQLite's upsert needs the WHERE before ON CONFLICT
        .group_by(*positions(len(summary.keys) + 1))
    )
    return insert_counted(summary.table, [summary.unit, *summary.keys, "calls"], sums, start, end)


def positions(count: int) -> list[ColumnElement[Any]]:
    """GROUP BY the first `count` columns, by position: an expression's bound values would make it
    differ from its copy in GROUP BY on PostgreSQL."""
    return [literal_column(str(n)) for n in range(1, count + 1)]
