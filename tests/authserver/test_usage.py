"""The dashboard's and the developer portal's figures, exactly, on PostgreSQL and SQLite: whether
an hour's calls are read from the hourly counts or from the records must never show."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from authserver import audit_percentiles, usage
from authserver.audit_hours import AuditHour
from authserver.audit_selection import Filters, TimeRange, UsageQueryError
from shared import scopes
from shared.db import db
from tests.authserver.usage_data import BASE, add_calls, add_client

H = timedelta(hours=1)
M = timedelta(minutes=1)
# Long after every row: every closed hour can be counted.
LATER = BASE + 10 * H
# Before every row: nothing can be counted, every figure is read from the records.
EARLIER = BASE

CALLS = [
    {"at": BASE + 10 * M, "tool": "get_post"},  # before the range
    {"at": BASE + 40 * M, "tool": "get_post"},
    {"at": BASE + 50 * M, "tool": "list_posts", "outcome": "tool_error"},
    {"at": BASE + H + 5 * M, "tool": "get_post", "client_id": "client-b"},
    {"at": BASE + H + 6 * M, "tool": "get_post", "client_id": "client-b", "outcome": "rate_limited", "rate_limit": "client"},
    {"at": BASE + H + 7 * M, "tool": "get_post", "client_id": "client-b", "outcome": "rate_limited", "rate_limit": "client"},
    {"at": BASE + H + 8 * M, "tool": "list_posts", "client_id": "client-b", "outcome": "rate_limited", "rate_limit": "tool"},
    {"at": BASE + 2 * H + 1 * M, "tool": "list_posts", "outcome": "failed"},
    {"at": BASE + 2 * H + 2 * M, "tool": "list_posts", "outcome": "refused", "subject": "person-2"},
    {"at": BASE + 2 * H + 3 * M, "tool": "create_post", "outcome": "invalid", "client_id": "client-gone"},
    {"at": BASE + 4 * H + 10 * M, "tool": "get_post", "outcome": "unavailable"},
    {"at": BASE + 4 * H + 40 * M, "tool": "get_post"},  # at the range's end: excluded
]
# From 10:30 to 14:40: the half hours at each end are read from the records either way.
PERIOD = TimeRange(BASE + 30 * M, BASE + 4 * H + 40 * M)


@pytest.fixture
def calls(usage_db):
    add_client("client-a", "Client A")
    add_client("client-b", "Client B")
    add_calls(*CALLS)


@pytest.fixture(params=["records", "hourly counts"])
def now(request, calls):
    """The reading's clock: first before anything could be counted, then after, on the same rows.
    The second reading counts the hours, and the next test's first reading starts clean again."""
    return EARLIER if request.param == "records" else LATER


def test_calls_per_tool(now):
    assert usage.calls_per_tool(PERIOD, now=now) == [
        usage.ToolCalls("get_post", calls=5, errors=1, rate_limited=2),
        usage.ToolCalls("list_posts", calls=4, errors=2, rate_limited=1),
        usage.ToolCalls("create_post", calls=1, errors=1, rate_limited=0),
    ]


def test_reading_after_the_hours_are_counted_gives_the_same_figures(usage_db, calls):
    from_records = usage.calls_per_client(PERIOD, now=EARLIER), usage.calls_per_hour(PERIOD, now=EARLIER)
    from_counts = usage.calls_per_client(PERIOD, now=LATER), usage.calls_per_hour(PERIOD, now=LATER)

    assert from_counts == from_records
    assert db.session.scalar(select(func.count()).select_from(AuditHour)) == 10  # the second reading counted the hours


def test_calls_per_client_names_each_client_and_keeps_a_deleted_ones_id(now):
    assert usage.calls_per_client(PERIOD, now=now) == [
        usage.ClientCalls("client-a", "Client A", calls=5, errors=3, rate_limited=0),
        usage.ClientCalls("client-b", "Client B", calls=4, errors=0, rate_limited=3),
        usage.ClientCalls("client-gone", None, calls=1, errors=1, rate_limited=0),
    ]
    top = usage.calls_per_client(PERIOD, limit=1, now=now)
    assert [(c.client_id, c.label) for c in top] == [("client-a", "Client A")]
    assert usage.calls_per_client(PERIOD, now=now)[-1].label == "client-gone"


def test_calls_per_hour_has_every_hour_of_the_range(now):
    assert usage.calls_per_hour(PERIOD, now=now) == [
        usage.PeriodCalls(BASE, calls=2, errors=1, rate_limited=0),
        usage.PeriodCalls(BASE + H, calls=4, errors=0, rate_limited=3),
        usage.PeriodCalls(BASE + 2 * H, calls=3, errors=2, rate_limited=0),
        usage.PeriodCalls(BASE + 3 * H, calls=0, errors=0, rate_limited=0),
        usage.PeriodCalls(BASE + 4 * H, calls=1, errors=1, rate_limited=0),
    ]


def test_calls_per_day_adds_up_each_utc_day_the_range_touches(now):
    """From the day before the rows to 12:00 the day after: three days, the rows all on the second."""
    day = BASE.replace(hour=0)
    period = TimeRange(day - 24 * H + 30 * M, day + 36 * H)
    assert usage.calls_per_day(period, now=now) == [
        usage.PeriodCalls(day - 24 * H, calls=0, errors=0, rate_limited=0),
        usage.PeriodCalls(day, calls=12, errors=4, rate_limited=3),
        usage.PeriodCalls(day + 24 * H, calls=0, errors=0, rate_limited=0),
    ]


def test_error_rate_counts_errors_but_not_refusals(now):
    rate = usage.error_rate(PERIOD, now=now)

    assert rate == usage.ErrorRate(
        calls=10,
        errors=4,  # tool_error, failed, invalid, unavailable; not refused, not rate_limited
        by_outcome={"failed": 1, "invalid": 1, "ok": 2, "rate_limited": 3, "refused": 1, "tool_error": 1, "unavailable": 1},
    )
    assert rate.rate == 0.4


def test_rate_limit_hits_per_client_and_limit(now):
    assert usage.rate_limit_hits(PERIOD, now=now) == [
        usage.RateLimitHits("client-b", "Client B", "client", 2),
        usage.RateLimitHits("client-b", "Client B", "tool", 1),
    ]
    assert usage.rate_limit_hits(PERIOD, Filters(outcome="ok"), now=now) == []


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(client_id="client-b"), {"get_post": 3, "list_posts": 1}),
        (Filters(tool="list_posts"), {"list_posts": 4}),
        (Filters(outcome="rate_limited"), {"get_post": 2, "list_posts": 1}),
        (Filters(subject="person-2"), {"list_posts": 1}),
        (Filters(client_id="client-a", tool="list_posts", outcome="failed"), {"list_posts": 1}),
        (Filters(client_id="nobody"), {}),
    ],
    ids=["client", "tool", "outcome", "person", "all-three", "no-match"],
)
def test_filters(now, filters, expected):
    assert {line.tool: line.calls for line in usage.calls_per_tool(PERIOD, filters, now=now)} == expected


def test_latency_percentiles_are_percentile_cont_over_the_calls_that_ran(usage_db):
    """1..100 ms: percentile_cont interpolates between ranks (P95 of 1..100 is 95.05). A refusal's
    duration is not a tool's, so the 10 s refused call does not move them."""
    add_calls(
        *({"at": BASE + k * M / 10, "duration_ms": float(k), "tool": "get_post"} for k in range(1, 101)),
        {"at": BASE, "duration_ms": 10000.0, "tool": "get_post", "outcome": "refused"},
        {"at": BASE, "duration_ms": 7.0, "tool": "list_posts", "outcome": "tool_error"},
    )
    period = TimeRange(BASE, BASE + H)

    assert usage.latency_per_tool(period) == [
        usage.Latency("get_post", calls=100, p50_ms=50.5, p95_ms=pytest.approx(95.05), p99_ms=pytest.approx(99.01)),
        usage.Latency("list_posts", calls=1, p50_ms=7.0, p95_ms=7.0, p99_ms=7.0),
    ]
    assert usage.latency_per_tool(period, Filters(outcome="refused")) == [usage.Latency("get_post", 1, 10000.0, 10000.0, 10000.0)]
    assert usage.latency_per_tool(period, Filters(client_id="nobody")) == []


def test_unused_tools_are_the_installed_ones_nobody_called_in_seven_days(usage_db):
    now = BASE + 8 * 24 * H
    add_calls(
        {"at": now - 7 * 24 * H + M, "tool": "get_post", "outcome": "refused"},  # even a refused call is a call
        {"at": now - 7 * 24 * H - M, "tool": "list_posts"},  # eight days ago: too old
        {"at": now - H, "tool": "not_installed"},
    )

    unused = usage.unused_tools(now)

    assert "get_post" not in unused
    assert "list_posts" in unused
    assert unused == [name for name in scopes.tool_names() if name != "get_post"]


def test_client_usage_is_the_developer_portals_seven_days_per_tool(usage_db):
    now = BASE + 8 * 24 * H
    add_calls(
        *({"at": now - 24 * H, "duration_ms": float(k)} for k in range(1, 21)),
        {"at": now - 2 * 24 * H, "outcome": "tool_error", "duration_ms": 100.0},
        {"at": now - 2 * 24 * H, "tool": "list_posts", "outcome": "rate_limited", "rate_limit": "person"},
        {"at": now - 3 * 24 * H, "tool": "list_posts", "client_id": "client-b"},  # another client
        {"at": now - 9 * 24 * H, "tool": "list_posts"},  # too old
    )

    found = usage.client_usage("client-a", now)

    assert found.period == TimeRange(now - 7 * 24 * H, now)
    assert found.tools == [
        # P95 of 1..20 and 100: position 0.95 x 20 = 19 exactly, the 20
        usage.ToolUsage("get_post", calls=21, errors=1, rate_limited=0, p95_ms=20.0),
        usage.ToolUsage("list_posts", calls=1, errors=0, rate_limited=1, p95_ms=None),
    ]
    assert (found.calls, found.errors, found.rate_limited) == (22, 1, 1)


def test_percentile_cont_matches_postgresql_on_edges():
    assert audit_percentiles.percentile_cont([5.0], 0.99) == 5.0
    assert audit_percentiles.percentile_cont([1.0, 2.0], 0.5) == 1.5
    assert audit_percentiles.percentile_cont([1.0, 2.0, 4.0], 0.95) == pytest.approx(3.8)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: TimeRange(BASE, BASE), "is not before its end"),
        (lambda: TimeRange(BASE + H, BASE), "is not before its end"),
        (lambda: TimeRange(BASE.replace(tzinfo=None), BASE + H), "timezone-aware"),
        (lambda: Filters(outcome="great"), "unknown outcome 'great'"),
        (lambda: usage.calls_per_hour(TimeRange(BASE, BASE + 400 * 24 * H)), "at most 366 days"),
    ],
    ids=["empty", "reversed", "naive", "outcome", "series-too-long"],
)
def test_what_cannot_be_answered_is_named(usage_db, make, message):
    with pytest.raises(UsageQueryError, match=message):
        make()
