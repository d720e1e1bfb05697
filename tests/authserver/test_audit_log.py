"""The audit-log browser's pages (keyset, newest first) and its CSV export, on PostgreSQL and SQLite."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from authserver import audit_log
from authserver.audit_log import Cursor
from authserver.audit_selection import NO_FILTERS, Filters, TimeRange, UsageQueryError
from shared.cli import cli, create_cli_app
from tests.authserver.usage_data import BASE, add_calls, add_client

H = timedelta(hours=1)
S = timedelta(seconds=1)
DAY = TimeRange(BASE, BASE + 24 * H)


def walk(period: TimeRange, filters: Filters = NO_FILTERS, size: int = 2) -> list[list[str]]:
    """Every page's request ids, following each page's cursor to the end."""
    pages, after = [], None
    while True:
        page = audit_log.browse(period, filters, after, size)
        pages.append([entry.request_id for entry in page.entries])
        if page.next is None:
            return pages
        after = Cursor.parse(str(page.next))  # through its text, as a page link carries it


def test_pages_are_newest_first_and_each_record_is_on_exactly_one(usage_db):
    """Three records share one instant: the id breaks the tie, so a page boundary between them
    neither repeats nor skips one."""
    add_calls(
        {"at": BASE + S, "request_id": "r1"},
        {"at": BASE + 2 * S, "request_id": "r2"},
        {"at": BASE + 2 * S, "request_id": "r3"},
        {"at": BASE + 2 * S, "request_id": "r4"},
        {"at": BASE + 3 * S, "request_id": "r5"},
        {"at": BASE - S, "request_id": "before"},
        {"at": DAY.end, "request_id": "at-the-end"},
    )

    assert walk(DAY) == [["r5", "r4"], ["r3", "r2"], ["r1"]]
    assert walk(DAY, size=5) == [["r5", "r4", "r3", "r2", "r1"]]
    assert walk(DAY, size=1) == [["r5"], ["r4"], ["r3"], ["r2"], ["r1"]]


def test_pages_follow_the_filters(usage_db):
    add_calls(
        {"at": BASE + S, "request_id": "a1"},
        {"at": BASE + 2 * S, "request_id": "b1", "client_id": "client-b"},
        {"at": BASE + 3 * S, "request_id": "a2", "outcome": "refused", "subject": "person-2"},
        {"at": BASE + 4 * S, "request_id": "a3", "tool": "list_posts"},
        {"at": BASE + 5 * S, "request_id": "a4"},
    )

    assert walk(DAY, Filters(client_id="client-a")) == [["a4", "a3"], ["a2", "a1"]]
    assert walk(DAY, Filters(client_id="client-a", tool="get_post", outcome="ok")) == [["a4", "a1"]]
    assert walk(DAY, Filters(subject="person-2")) == [["a2"]]
    assert walk(DAY, Filters(client_id="nobody")) == [[]]


def test_an_entry_names_its_client_or_keeps_a_deleted_ones_id(usage_db):
    add_client("client-a", "Client A")
    add_calls({"at": BASE + S, "request_id": "named"}, {"at": BASE, "client_id": "client-gone", "request_id": "gone"})

    entries = audit_log.browse(DAY).entries

    assert [(e.request_id, e.client_id, e.client_name) for e in entries] == [("named", "client-a", "Client A"), ("gone", "client-gone", None)]


@pytest.mark.parametrize("text", ["", "nonsense", "2026-03-02T10:00:00_x", "2026-03-02T10:00:00_7", "_7"], ids=["empty", "no-sep", "bad-id", "naive", "no-time"])
def test_a_cursor_the_server_did_not_make_is_refused(text):
    with pytest.raises(UsageQueryError, match="page cursor"):
        Cursor.parse(text)


@pytest.mark.parametrize("size", [0, audit_log.MAX_PAGE_SIZE + 1])
def test_a_page_size_out_of_bounds_is_refused(usage_db, size):
    with pytest.raises(UsageQueryError, match="a page holds 1 to 500 records"):
        audit_log.browse(DAY, size=size)


def exported(period: TimeRange = DAY, filters: Filters = NO_FILTERS) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO("".join(audit_log.export_csv(period, filters)))))


def test_the_export_has_every_record_newest_first_with_its_arguments(usage_db):
    add_client("client-a", "Client A")
    add_calls(
        {"at": BASE + S, "arguments": {"post_id": 7}, "arguments_bytes": 13, "duration_ms": 2.5, "request_id": "r1"},
        {"at": BASE + 2 * S, "outcome": "tool_error", "error": "No post with id 9.", "client_id": "client-gone", "request_id": "r2"},
    )

    rows = exported()

    assert [row["request_id"] for row in rows] == ["r2", "r1"]
    assert rows[1] == {
        "at": (BASE + S).isoformat(), "client_id": "client-a", "client_name": "Client A", "subject": "person-1", "tool": "get_post",
        "outcome": "ok", "rate_limit": "", "duration_ms": "2.5", "error": "", "ip": "127.0.0.1", "session_id": "", "request_id": "r1",
        "arguments_bytes": "13", "arguments": '{"post_id": 7}',
    }
    assert (rows[0]["client_name"], rows[0]["error"]) == ("", "No post with id 9.")
    assert exported(filters=Filters(outcome="tool_error"))[0]["request_id"] == "r2"


@pytest.mark.parametrize("outcome", ["refused", "rate_limited", "invalid", "revoked", "unavailable"])
def test_a_refused_calls_arguments_are_never_exported(usage_db, outcome):
    """Even from a row that holds them (written before refused calls' values stopped being kept)."""
    add_calls({"at": BASE, "outcome": outcome, "arguments": {"secret": "kept by an old version"}, "arguments_bytes": 34})

    (row,) = exported()

    assert (row["arguments"], row["arguments_bytes"]) == ("", "34")


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_no_cell_starts_a_spreadsheet_formula(usage_db, start):
    """OWASP CSV Injection: a cell starting with = + - @ (or tab, carriage return) is run as a
    formula by spreadsheets; the caller chose the subject, the tool name and the error's text."""
    payload = f"{start}HYPERLINK(\"http://evil.example\",\"x\")"
    add_calls({"at": BASE, "subject": payload, "tool": payload, "outcome": "invalid", "error": payload, "session_id": "-1"})

    (row,) = exported()

    assert row["subject"] == row["tool"] == row["error"] == "'" + payload
    assert row["session_id"] == "'-1"


def test_the_export_streams_in_batches(usage_db):
    """2,500 records come as a header and three chunks of at most 1,000: never as one result."""
    add_calls(*({"at": BASE + k * S, "request_id": f"r{k}"} for k in range(2500)))

    chunks = list(audit_log.export_csv(DAY))

    assert [chunk.count("\n") for chunk in chunks] == [1, 1000, 1000, 500]
    assert exported()[0]["request_id"] == "r2499"


def test_the_cli_exports_as_csv(usage_db, usage_app):
    add_calls({"at": BASE + S, "request_id": "r1"}, {"at": BASE + 2 * H, "request_id": "r2"}, {"at": BASE - S, "request_id": "r0"})
    runner = create_cli_app(usage_app.config["SETTINGS"]).test_cli_runner()

    result = runner.invoke(cli, ["audit", "export", "--since", "2026-03-02T10:00", "--until", "2026-03-02T12:00:01"])
    refused = runner.invoke(cli, ["audit", "export", "--since", "2026-03-02", "--until", "2026-03-01"])

    assert result.exit_code == 0, result.output
    assert [row["request_id"] for row in csv.DictReader(io.StringIO(result.output))] == ["r2", "r1"]
    assert refused.exit_code == 2
    assert "is not before its end" in refused.output

