"""The hourly counts: which hours are added, when, and that adding them twice changes nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from authserver import audit_hours
from authserver.audit_hours import AuditHour
from shared.cli import cli, create_cli_app
from shared.db import db
from tests.authserver.usage_data import BASE, add_calls

H = timedelta(hours=1)
M = timedelta(minutes=1)


def counts() -> list[tuple]:
    columns = (AuditHour.hour, AuditHour.tool, AuditHour.outcome, AuditHour.rate_limit, AuditHour.calls)
    rows = db.session.execute(select(*columns).order_by(*columns[:3]))
    return [tuple(row) for row in rows]


def test_an_hour_is_counted_once_it_closed_five_minutes_ago(usage_db):
    add_calls(
        {"at": BASE + 5 * M},
        {"at": BASE + 59 * M, "outcome": "rate_limited", "rate_limit": "person"},
        {"at": BASE + H + M, "tool": "list_posts"},
    )

    assert audit_hours.counted_until(BASE + H + 4 * M) is None  # the hour closed 4 minutes ago
    assert audit_hours.counted_until(BASE + H + 5 * M) == BASE + H
    assert counts() == [(BASE, "get_post", "ok", "", 1), (BASE, "get_post", "rate_limited", "person", 1)]
    assert audit_hours.counted_until(BASE + 2 * H + 5 * M) == BASE + 2 * H
    assert counts()[-1] == (BASE + H, "list_posts", "ok", "", 1)


def test_counting_again_adds_nothing(usage_db):
    add_calls({"at": BASE + 5 * M}, {"at": BASE + 6 * M})

    assert audit_hours.catch_up(BASE + 3 * H, max_hours=None) == 1
    assert audit_hours.catch_up(BASE + 3 * H, max_hours=None) == 0
    assert counts() == [(BASE, "get_post", "ok", "", 2)]


def test_two_readers_counting_the_same_hours_add_them_once(usage_db):
    """Both found the same hours uncounted; the second one's rows meet the first one's."""
    add_calls({"at": BASE + 5 * M}, {"at": BASE + H + 5 * M})

    assert audit_hours.count_hours(BASE, BASE + H) == 1
    assert audit_hours.count_hours(BASE, BASE + 2 * H) == 1  # only the second hour was new
    assert counts() == [(BASE, "get_post", "ok", "", 1), (BASE + H, "get_post", "ok", "", 1)]


def test_a_read_counts_at_most_two_days_and_skips_hours_without_calls(usage_db):
    """Calls four days apart: the quiet days between them are no reason to stop counting."""
    add_calls({"at": BASE}, {"at": BASE + 96 * H}, {"at": BASE + 200 * H})
    now = BASE + 300 * H

    assert audit_hours.counted_until(now) == BASE + H
    assert audit_hours.counted_until(now) == BASE + 97 * H
    assert audit_hours.counted_until(now) == BASE + 201 * H
    assert [row[0] for row in counts()] == [BASE, BASE + 96 * H, BASE + 200 * H]


def test_nothing_to_count(usage_db):
    assert audit_hours.counted_until(BASE) is None
    assert audit_hours.catch_up(BASE, max_hours=None) == 0


def test_the_cli_counts_every_closed_hour(usage_db, usage_app):
    add_calls({"at": BASE}, {"at": BASE + 100 * H})
    runner = create_cli_app(usage_app.config["SETTINGS"]).test_cli_runner()

    result = runner.invoke(cli, ["audit", "roll-up"])

    assert result.exit_code == 0, result.output
    assert result.output == "Added 2 rows of hourly counts and 2 rows of latency histograms.\n"
