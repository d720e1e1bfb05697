"""Calls in a time range grouped by tool, client or hour, with their outcome and rate limit, each
part of the range read from the cheapest table that answers it.

The hourly counts (audit_hours.py) answer for the whole hours of a range that are counted, and the
audit records themselves for the rest: the part of the first and last hour the range cuts, and the
last few minutes. Within those hours, summaries of the counts (audit_summaries.py: per tool, per
client, per day or hour) answer for the whole days, then hours, they cover when they keep what the
grouping and the filters need. A filter by person reads only the records (the counts keep no
person), through their (subject, at) index.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Unpack

from sqlalchemy import ColumnElement, Select, and_, func, literal_column, or_, select

from authserver import audit_summaries
from authserver.audit_hours import HOUR, NO_LIMIT, AuditHour, counted_until, hour_of, whole_units
from authserver.audit_selection import ERROR_OUTCOMES, RATE_LIMITED, Filters, TimeRange
from mcp_resource.models import AuditRecord
from shared.db import db, utcnow

# One group of calls: its key (the values of the grouping columns), outcome, rate limit, calls.
Tally = tuple[tuple[Any, ...], str, str, int]


def tally(keys: Sequence[str], period: TimeRange, filters: Filters, now: datetime | None) -> list[Tally]:
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
    return _grouped(table, [_column(table, key) for key in keys], *rest).where(*matching(table, filters))


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


def matching(table: type[Any], filters: Filters) -> list[ColumnElement[bool]]:
    conditions = []
    for name in (*_FILTERED, "subject"):
        value = getattr(filters, name)
        if value is not None:
            conditions.append(getattr(table, name) == value)
    return conditions


def fold(tallies: list[Tally]) -> dict[tuple[Any, ...], tuple[int, int, int]]:
    """Per key: calls, errors, rate-limit hits."""
    folded: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0, 0])
    for key, outcome, _, calls in tallies:
        line = folded[key]
        line[0] += calls
        line[1] += calls if outcome in ERROR_OUTCOMES else 0
        line[2] += calls if outcome == RATE_LIMITED else 0
    return {key: (line[0], line[1], line[2]) for key, line in folded.items()}
