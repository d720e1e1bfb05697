"""The dashboard's percentiles from hourly latency histograms (audit_latency.py), against the
exact ones (usage.latency_per_tool), on PostgreSQL and SQLite: within the stated error, whether
the hours are read from the histograms or from the records."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from authserver import audit_hours, audit_latency, usage
from authserver.audit_latency import LATENCY, RELATIVE_ERROR, AuditLatencyHour
from authserver.audit_selection import TimeRange
from shared.db import db
from tests.authserver.usage_data import BASE, add_calls

H = timedelta(hours=1)
M = timedelta(minutes=1)
# From 10:20 to 15:50: five whole hours, and cut ones at each end.
PERIOD = TimeRange(BASE + 20 * M, BASE + 5 * H + 50 * M)


def durations(seed: int, count: int) -> list[float]:
    """Log-normal around 20 ms, as tools' durations tend to be, rounded as the MCP server stores them."""
    draw = random.Random(seed)
    return [round(draw.lognormvariate(3.0, 0.9), 3) for _ in range(count)]


@pytest.fixture
def calls(usage_db):
    rows = []
    for tool, seed, count in (("get_post", 1, 900), ("list_posts", 2, 300), ("run_report", 3, 7)):
        for number, duration in enumerate(durations(seed, count)):
            rows.append({"at": BASE + number * 6 * H / count, "tool": tool, "duration_ms": duration})
    # Refusals take no time: kept out of both the exact percentiles and the histograms.
    rows += [{"at": BASE + 2 * H, "tool": "get_post", "outcome": "rate_limited", "duration_ms": 0.05}] * 50
    add_calls(*rows)


@pytest.mark.parametrize("now", [BASE, BASE + 10 * H], ids=["records", "histograms"])
def test_each_percentile_is_within_the_stated_error_of_the_exact_one(calls, now):
    exact = usage.latency_per_tool(PERIOD)
    estimated = usage.estimated_latency_per_tool(PERIOD, now=now)

    assert [(line.tool, line.calls) for line in estimated] == [(line.tool, line.calls) for line in exact]
    for guess, truth in zip(estimated, exact, strict=True):
        for got, wanted in ((guess.p50_ms, truth.p50_ms), (guess.p95_ms, truth.p95_ms), (guess.p99_ms, truth.p99_ms)):
            assert abs(got - wanted) <= RELATIVE_ERROR * wanted, (guess.tool, got, wanted)


def test_the_histograms_count_only_the_calls_that_ran_and_each_hour_once(calls):
    counted = audit_hours.catch_up(BASE + 10 * H, max_hours=None, rollup=LATENCY)

    assert counted > 0
    assert db.session.scalar(select(func.sum(AuditLatencyHour.calls))) == 900 + 300 + 7
    assert audit_hours.catch_up(BASE + 10 * H, max_hours=None, rollup=LATENCY) == 0


def test_a_percentile_interpolates_between_the_values_of_its_two_ranks():
    """Ranks 0-1 in bucket 0, rank 2 in bucket 10: the median of 3 is rank 1, P75 halfway from rank 1 to 2."""
    histogram = {10: 1, 0: 2}
    low, high = audit_latency.bucket_value(0), audit_latency.bucket_value(10)

    assert audit_latency.percentile(histogram, 0.5) == low
    assert audit_latency.percentile(histogram, 0.75) == pytest.approx(low + (high - low) * 0.5)
    assert audit_latency.percentile(histogram, 1.0) == high


def test_the_stated_error_is_half_a_bucket_on_a_log_scale():
    assert RELATIVE_ERROR == pytest.approx(0.0247, abs=1e-4)
