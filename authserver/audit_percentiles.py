"""Exact latency percentiles per tool from the audit records' durations: on PostgreSQL with
percentile_cont; on SQLite (the embedded default) the same definition (linear interpolation between
the two nearest ranks) computed here from the durations the database returns sorted, one tool at a
time."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql

from authserver.audit_counts import matching
from authserver.audit_selection import RAN_OUTCOMES, Filters, TimeRange
from mcp_resource.models import AuditRecord
from shared.db import db

PERCENTILES = (0.5, 0.95, 0.99)
# Sort memory for the percentile query on PostgreSQL: a week of a busy server's durations (about
# 700,000) sorts in memory instead of in temporary files, twice as fast (bench/README.md).
PERCENTILE_WORK_MEM = "64MB"


def exact_percentiles(period: TimeRange, filters: Filters) -> list[tuple[str, int, tuple[float, float, float]]]:
    """Per tool: how many durations, and their PERCENTILES, as percentile_cont defines them."""
    conditions = [AuditRecord.at >= period.start, AuditRecord.at < period.end, *matching(AuditRecord, filters)]
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
