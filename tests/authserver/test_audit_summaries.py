"""The daily and per-outcome summaries of the hourly rollups (audit_summaries.py): the dashboard's
figures read through them are those the records give, to the call, on PostgreSQL and SQLite, for
ranges that start and end mid-day and mid-hour, on a day boundary, within one day, and up to now."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from authserver import audit_hours, audit_summaries, usage
from authserver.audit_latency import LATENCY, LATENCY_DAYS
from authserver.audit_selection import Filters, TimeRange
from shared.db import db
from tests.authserver.usage_data import BASE, add_calls, add_client

H = timedelta(hours=1)
D = timedelta(days=1)
M = timedelta(minutes=1)
# The calls span three and a half days from BASE (a Monday, 10:00 UTC); the figures are read 3
# minutes after the last one, so its hour is not counted yet and the last minutes come from records.
END_OF_CALLS = BASE + 3 * D + 12 * H
NOW = END_OF_CALLS + 3 * M
MIDNIGHT = BASE + 14 * H
RANGES = {
    "mid-day, mid-hour to mid-day, mid-hour": TimeRange(BASE + 20 * M, BASE + 2 * D + 5 * H + 50 * M),
    "midnight to midnight": TimeRange(MIDNIGHT, MIDNIGHT + 2 * D),
    "mid-hour to midnight": TimeRange(BASE + 3 * H + 7 * M, MIDNIGHT + D),
    "within one day": TimeRange(BASE + H + 10 * M, BASE + 7 * H),
    "up to now": TimeRange(BASE + 30 * M, NOW),
    "one hour": TimeRange(NOW - H, NOW),
}
OUTCOMES = ["ok"] * 12 + ["tool_error", "failed", "invalid", "refused", "task_created"]


@pytest.fixture
def calls(usage_db):
    draw = random.Random(7)
    rows: list[dict[str, Any]] = []
    at = BASE
    while at < END_OF_CALLS:
        call: dict[str, Any] = {
            "at": at, "client_id": draw.choice(["client-a", "client-b", "client-c"]), "subject": draw.choice(["person-1", "person-2"]),
            "tool": draw.choice(["get_post", "list_posts", "run_report"]), "outcome": draw.choice(OUTCOMES),
            "duration_ms": round(draw.lognormvariate(3.0, 0.9), 3),
        }
        if draw.random() < 0.1:
            call.update(outcome="rate_limited", rate_limit=draw.choice(["client", "person", "tool"]), duration_ms=0.05)
        rows.append(call)
        at += timedelta(minutes=draw.randint(1, 13), seconds=draw.randint(0, 59))
    add_calls(*rows)
    add_client("client-a", "Client A")


def figures(period: TimeRange, now: datetime) -> dict[str, Any]:
    """What the dashboard shows over `period`, and a client's and a tool's figures, read at `now`."""
    return {
        "tools": usage.calls_per_tool(period, now=now),
        "clients": usage.calls_per_client(period, now=now),
        "hours": usage.calls_per_hour(period, now=now),
        "errors": usage.error_rate(period, now=now),
        "rate limits": usage.rate_limit_hits(period, now=now),
        "latency": usage.estimated_latency_per_tool(period, now=now),
        "one client's tools": usage.calls_per_tool(period, Filters(client_id="client-b"), now=now),
        "one tool's clients": usage.calls_per_client(period, Filters(tool="list_posts"), now=now),
        "one outcome's hours": usage.calls_per_hour(period, Filters(outcome="tool_error"), now=now),
    }


def rows(table: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(table)) or 0


def test_the_summaries_give_the_figures_the_records_give(calls):
    # Read before the calls were made, nothing is counted: every figure from the records.
    from_records = {name: figures(period, BASE) for name, period in RANGES.items()}
    assert rows(audit_hours.AuditHour) == 0
    assert sum(line.calls for line in from_records["up to now"]["tools"]) > 600

    audit_hours.catch_up(NOW, max_hours=None)
    audit_hours.catch_up(NOW, max_hours=None, rollup=LATENCY)
    from_summaries = {name: figures(period, NOW) for name, period in RANGES.items()}

    for summary in (*audit_summaries.COUNT_SUMMARIES, LATENCY_DAYS):  # filled by those reads, and read
        assert audit_summaries.summarized_until(summary) == (END_OF_CALLS - H if summary.unit == "hour" else MIDNIGHT + 2 * D)
    assert from_summaries == from_records


def test_summaries_partly_caught_up_give_the_same_figures(calls, monkeypatch):
    """Each read sums five more hours, or one more day: every figure is read with the summaries at
    another point behind the hourly counts, the days behind the hours; a day is never summed in part."""
    from_records = {name: figures(period, BASE) for name, period in RANGES.items()}
    audit_hours.catch_up(NOW, max_hours=None)
    audit_hours.catch_up(NOW, max_hours=None, rollup=LATENCY)
    monkeypatch.setattr(audit_summaries, "MAX_SPAN_PER_READ", 5 * H)

    assert {name: figures(period, NOW) for name, period in RANGES.items()} == from_records
    assert audit_summaries.summarized_until(audit_summaries.DAY_TOOLS) == MIDNIGHT + 2 * D  # caught up by now


def test_a_day_is_summed_once_all_its_hours_are_counted(usage_db):
    add_calls({"at": BASE}, {"at": MIDNIGHT + 30 * M, "tool": "list_posts"}, {"at": MIDNIGHT + D + H})

    audit_hours.catch_up(MIDNIGHT + 23 * H, max_hours=None)  # the day after MIDNIGHT is not over
    assert audit_summaries.summarized_until(audit_summaries.DAY_TOOLS) == MIDNIGHT
    assert audit_summaries.catch_up(audit_summaries.DAY_TOOLS, max_span=None) == 0

    audit_hours.catch_up(MIDNIGHT + D + 2 * H + 5 * M, max_hours=None)
    assert audit_summaries.catch_up(audit_summaries.DAY_TOOLS, max_span=None) == 1
    assert audit_summaries.catch_up(audit_summaries.DAY_TOOLS, max_span=None) == 0  # summing again adds nothing
    days = db.session.execute(select(audit_summaries.AuditDayTool.day, audit_summaries.AuditDayTool.tool, audit_summaries.AuditDayTool.calls))
    assert sorted(tuple(row) for row in days) == [(MIDNIGHT - D, "get_post", 1), (MIDNIGHT, "list_posts", 1)]
