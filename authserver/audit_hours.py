"""Hourly counts of the audit trail, so the dashboard's figures cost the same at 10 million rows as
at ten: the table, and how it catches up with the audit records.

Rolled up on read, not by the writer: the MCP server's `tools/call` path stays one INSERT
(guardrails/audit.py), and no process has to be kept running. Whoever reads the figures first
after an hour has closed adds that hour (`catch_up`), in one INSERT ... SELECT ... GROUP BY.
An hour is added only once it closed ROLLUP_DELAY ago: a call's row carries the time it was made,
and commits within the writer's bounded wait (10 s) or the call fails, so no row lands in an hour
after it was counted. Readers never depend on how far the catch-up got: they read the counts for
the hours before `counted_until()` and the audit records themselves for the rest (usage.py).
Two readers catching up at once count the same hours; the second one's rows that the first one
added are skipped (ON CONFLICT DO NOTHING on the primary key). Counts outlive the records `drawbridge audit prune` removes: they hold no
person, no arguments, only calls per client, tool and outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import ColumnElement, ColumnExpressionArgument, Index, String, func, literal_column, select, type_coerce
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from mcp_resource.models import AuditRecord
from shared.db import Model, UTCDateTime, db, rowcount, utcnow

logger = logging.getLogger(__name__)

HOUR = timedelta(hours=1)
# How long after an hour closes its counts are added: well past the audit writer's bounded wait
# (guardrails/audit.py, 10 s) and any clock skew between the services' hosts.
ROLLUP_DELAY = timedelta(minutes=5)
# Hours one read adds at most, so a page never waits for a long backlog (after an upgrade, say);
# `drawbridge audit roll-up` adds them all.
MAX_HOURS_PER_READ = 48
# The rate_limit of a call no limit refused: the key's columns are never null (a null is never
# equal to another in a unique key, on either database).
NO_LIMIT = ""


class AuditHour(Model):
    """Calls in one UTC hour, per client, tool, outcome and the limit that refused them."""

    __tablename__ = "audit_hours"
    # The primary key serves a range of hours; these, a range for one client or one tool.
    __table_args__ = (
        Index("ix_audit_hours_client_id_hour", "client_id", "hour"),
        Index("ix_audit_hours_tool_hour", "tool", "hour"),
    )

    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    tool: Mapped[str] = mapped_column(String(128), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(20), primary_key=True)
    rate_limit: Mapped[str] = mapped_column(String(10), primary_key=True)
    calls: Mapped[int]


DAY = timedelta(days=1)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# The units rollups count in, by the name date_trunc knows them by, with SQLite's form of their start.
UNITS = {"hour": (HOUR, "%Y-%m-%d %H:00:00.000000"), "day": (DAY, "%Y-%m-%d 00:00:00.000000")}


def floor_to(moment: datetime, unit: timedelta) -> datetime:
    """The start of the UTC hour or day `moment` falls in."""
    return EPOCH + (moment - EPOCH) // unit * unit


def ceil_to(moment: datetime, unit: timedelta) -> datetime:
    floor = floor_to(moment, unit)
    return floor if floor == moment else floor + unit


def floor_hour(moment: datetime) -> datetime:
    return floor_to(moment, HOUR)


def ceil_hour(moment: datetime) -> datetime:
    return ceil_to(moment, HOUR)


def whole_units(start: datetime, end: datetime, unit: timedelta, until: datetime | None) -> tuple[tuple[datetime, datetime] | None, list[tuple[datetime, datetime]]]:
    """The whole hours or days of [start, end) before `until` (a rollup's counted_until: it answers
    for them), and the parts of the range around them (the level below answers for those)."""
    if until is None:
        return None, [(start, end)]
    first, last = ceil_to(start, unit), min(floor_to(end, unit), until)
    if first >= last:
        return None, [(start, end)]
    return (first, last), [(a, b) for a, b in ((start, first), (last, end)) if a < b]


def start_of(unit: str, column: ColumnExpressionArgument[datetime]) -> ColumnElement[datetime]:
    """The start of the UTC hour or day (`unit`) a timestamp falls in, computed by the database,
    as a timezone-aware datetime."""
    if db.session.get_bind().dialect.name == "postgresql":
        # In UTC whatever the session's TimeZone: date_trunc on a timestamptz uses the session's.
        start = func.timezone("UTC", func.date_trunc(unit, func.timezone("UTC", column)))
    else:  # SQLite keeps SQLAlchemy's text form, "YYYY-MM-DD HH:MM:SS.ffffff", which sorts as time does
        start = func.strftime(UNITS[unit][1], column)
    return type_coerce(start, UTCDateTime())


def hour_of(column: ColumnExpressionArgument[datetime]) -> ColumnElement[datetime]:
    """The UTC hour a timestamp falls in, computed by the database."""
    return start_of("hour", column)


@dataclass(frozen=True)
class Rollup:
    """A table of per-hour figures added on read: its model (with an `hour` column), how it adds
    the hours [start, end), and which records it counts (a record it skips never holds it back)."""

    table: Any
    count: Callable[[datetime, datetime], int]
    counts_records: tuple[ColumnElement[bool], ...] = ()


def counted_until(now: datetime | None = None, max_hours: int | None = MAX_HOURS_PER_READ, rollup: Rollup | None = None) -> datetime | None:
    """Catch up (at most `max_hours` hours; None: all), then the end of the last hour counted:
    every call before it is in the rollup (by default audit_hours), none after it. None when
    nothing is counted yet."""
    rollup = rollup or COUNTS
    catch_up(now or utcnow(), max_hours, rollup)
    last = db.session.scalar(select(func.max(rollup.table.hour)))
    return None if last is None else last + HOUR


def catch_up(now: datetime, max_hours: int | None, rollup: Rollup | None = None) -> int:
    """Add the closed hours not counted yet (at most `max_hours` of them); returns how many rows
    were added."""
    rollup = rollup or COUNTS
    last = db.session.scalar(select(func.max(rollup.table.hour)))
    # From the first call not counted yet: hours without calls in between have no rows to add.
    uncounted = select(func.min(AuditRecord.at)).where(*rollup.counts_records)
    if last is not None:
        uncounted = uncounted.where(AuditRecord.at >= last + HOUR)
    first = db.session.scalar(uncounted)
    if first is None:
        return 0
    start = floor_hour(first)
    end = floor_hour(now - ROLLUP_DELAY)
    if max_hours is not None:
        end = min(end, start + max_hours * HOUR)
    return rollup.count(start, end) if start < end else 0


def count_hours(start: datetime, end: datetime) -> int:
    """Add the counts of the hours from `start` to `end` (whole hours); an hour already counted,
    by another reader meanwhile, is left as it is. Returns how many rows of counts were added."""
    hour = hour_of(AuditRecord.at)
    counts = (
        select(
            hour,
            AuditRecord.client_id,
            AuditRecord.tool,
            AuditRecord.outcome,
            func.coalesce(AuditRecord.rate_limit, NO_LIMIT),
            func.count(),
        )
        .where(AuditRecord.at >= start, AuditRecord.at < end)  # SQLite's upsert needs the WHERE before ON CONFLICT
        .group_by(*(literal_column(str(n)) for n in range(1, 6)))  # by position: see audit_counts._grouped
    )
    columns = ["hour", "client_id", "tool", "outcome", "rate_limit", "calls"]
    return insert_counted(AuditHour, columns, counts, start, end)


def insert_counted(table: Any, columns: list[str], counted: Any, start: datetime, end: datetime) -> int:
    """INSERT the rows `counted` selects into a rollup, skipping those another reader added
    meanwhile; commit, and return how many were added."""
    upsert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = upsert(table).from_select(columns, counted).on_conflict_do_nothing()
    # SQLAlchemy keeps an INSERT's rowcount only when asked (and only from a Core execution).
    added = rowcount(db.session.connection().execute(statement.execution_options(preserve_rowcount=True)))
    db.session.commit()
    logger.info(f"{table.__tablename__}_added", extra={"from": start.isoformat(), "to": end.isoformat(), "rows": added})
    return added


COUNTS = Rollup(AuditHour, count_hours)
