"""The operations dashboard and the audit-log browser (views/dashboard.py), in process, on
PostgreSQL and SQLite: who may see them, what they show for a range, and what a bad range,
filter or cursor gets (a message next to its field, never a 500).

The journey through a real rate limit and burst at the live MCP server is walked in Chromium, in
tests/browser/test_dashboard_in_chromium.py."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from urllib.parse import urlencode

import pytest

from authserver import audit_log
from authserver.audit_selection import Filters, TimeRange
from authserver.users import assign_role
from shared import scopes
from tests.authserver.usage_data import BASE, add_calls, add_client
from tests.factories import PASSWORD, make_user
from tests.page_browser import Browser, field_errors, text

H = timedelta(hours=1)
M = timedelta(minutes=1)
# The custom range the tests ask for, as the form sends it: the day of the rows.
DAY = {"range": "custom", "start": "2026-03-02T00:00", "end": "2026-03-03T00:00"}
PERIOD = TimeRange(BASE.replace(hour=0), BASE.replace(hour=0) + 24 * H)


def query(**fields: str) -> str:
    return "?" + urlencode(fields)


@pytest.fixture
def admin_browser(usage_db) -> Browser:
    """A browser on the app with the audit trail's own database, signed in as an admin."""
    admin = make_user()
    assign_role(admin.email, "admin")
    browser = Browser(usage_db)
    browser.log_in(admin.email)
    return browser


@pytest.fixture
def calls(usage_db):
    """A day of calls: a runaway client mostly rate-limited, an ordinary one, a deleted one."""
    add_client("client-a", "Ordinary app")
    add_client("client-r", "Runaway agent")
    rows = [{"at": BASE + n * M, "client_id": "client-a", "tool": "get_post", "duration_ms": 10.0 + n} for n in range(20)]
    rows += [{"at": BASE + H + n * M, "client_id": "client-r", "tool": "list_posts", "outcome": "rate_limited", "rate_limit": "client"} for n in range(30)]
    rows += [{"at": BASE + H + n * M, "client_id": "client-r", "tool": "list_posts", "duration_ms": 50.0} for n in range(40)]
    rows += [{"at": BASE + 2 * H, "client_id": "client-gone", "tool": "create_post", "outcome": "tool_error", "error": "=HYPERLINK(\"http://evil\")"}]
    add_calls(*rows)


@pytest.mark.parametrize("path", ["/operations/", "/operations/audit"])
def test_somebody_signed_out_is_sent_to_log_in_and_back(usage_db, path):
    admin = make_user()
    assign_role(admin.email, "admin")
    visitor = Browser(usage_db)

    sent = visitor.get(path)
    back = visitor.submit(f"/login?next={path}", email=admin.email, password=PASSWORD)

    assert sent.status_code == 302 and sent.headers["Location"] == f"/login?next={path}"
    assert back.headers["Location"] == path


@pytest.mark.parametrize("path", ["/operations/", "/operations/audit", "/operations/audit.csv"])
def test_a_person_without_the_admin_role_gets_a_403_page_and_no_link(usage_db, path):
    person = make_user()
    assign_role(person.email, "developer")
    browser = Browser(usage_db)
    browser.log_in(person.email)

    response = browser.get(path)

    assert response.status_code == 403
    assert "This page is for people with the admin role." in text(response)
    assert 'href="/operations/"' not in text(browser.get("/"))


def test_an_admin_sees_the_link_and_the_page_for_the_last_24_hours_by_default(admin_browser):
    home = text(admin_browser.get("/"))
    response = admin_browser.get("/operations/")
    page = text(response)

    assert '<a href="/operations/">Operations</a>' in home
    assert response.status_code == 200
    assert "<h1>Operations</h1>" in page
    assert '<option selected value="24h">Last 24 hours</option>' in page
    assert "<script" not in page  # the CSP allows none
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert admin_browser.head("/operations/").status_code == 200


def test_the_dashboard_shows_each_figure_for_the_range_chosen(admin_browser, calls):
    page = text(admin_browser.get("/operations/" + query(**DAY)))

    assert "From <time" in page and "2 Mar 2026, 00:00 UTC" in page
    assert '<dd id="total-calls">91</dd>' in page
    assert '<dd id="rate-limit-total">30</dd>' in page
    assert '<dd id="error-rate">1.1% (1 error)</dd>' in page
    # Top callers by name, the runaway first; a deleted client by its id.
    callers = page.split('id="callers"')[1].split("</table>")[0]
    assert callers.index("Runaway agent") < callers.index("Ordinary app") < callers.index("client-gone")
    assert "<th scope=\"row\">Runaway agent</th><td>client</td><td>30</td>" in page
    # Drawn as charts: a column per hour, bars per line.
    assert '<svg class="columns" viewBox="0 0 24 100"' in page
    assert page.count('<svg class="bar"') >= 3
    # Latency from the histograms, with its bound said; the numbers in the table too.
    latency = page.split('id="latency"')[1].split("</table>")[0]
    assert "within 2.5% of the exact percentile" in page
    assert '<th scope="row">list_posts</th><td>40</td>' in latency


def test_a_range_over_two_days_is_drawn_a_column_per_day(admin_browser, calls):
    """A week as 7 columns (not 168): each day's calls, dated by day, the rows' day holding all 91."""
    week = {"range": "custom", "start": "2026-02-27T00:00", "end": "2026-03-06T00:00"}

    page = text(admin_browser.get("/operations/" + query(**week)))

    assert "Calls per day" in page and "Calls per hour" not in page
    assert '<svg class="columns" viewBox="0 0 7 100"' in page
    table = page.split('aria-label="Calls per day, as a table"')[1].split("</table>")[0]
    assert table.count("<tr><th scope=\"row\">") == 7
    assert '<th scope="row"><time datetime="2026-03-02">2 Mar 2026</time></th><td>91</td><td>1</td><td>30</td>' in table
    assert '<th scope="row"><time datetime="2026-03-03">3 Mar 2026</time></th><td>0</td>' in table


def test_the_unused_tools_are_the_installed_ones_nobody_called_for_7_days(admin_browser, usage_db):
    add_calls({"at": BASE, "tool": "get_post"})  # long before the last 7 days

    page = text(admin_browser.get("/operations/"))

    unused = page.split('id="unused-tools"')[1].split("</ul>")[0]
    assert all(f"<li>{name}</li>" in unused for name in scopes.tool_names())


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"range": "custom", "end": "2026-03-03T00:00"}, "start", "Enter when the range starts."),
        ({"range": "custom", "start": "2026-03-02T00:00"}, "end", "Enter when the range ends."),
        ({"range": "custom", "start": "2026-03-03T00:00", "end": "2026-03-02T00:00"}, "end", "The end must be after the start."),
        ({"range": "custom", "start": "2024-01-01T00:00", "end": "2026-03-02T00:00"}, "end", "A range covers at most 365 days."),
        ({"range": "custom", "start": "yesterday", "end": "2026-03-02T00:00"}, "start", "Not a valid datetime value."),
        ({"range": "forever"}, "range", "Not a valid choice."),
    ],
)
@pytest.mark.parametrize("path", ["/operations/", "/operations/audit", "/operations/audit.csv"])
def test_a_bad_range_gets_its_message_next_to_its_field(admin_browser, path, fields, field, message):
    response = admin_browser.get(path + query(**fields))

    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert field_errors(response) == {field: message}


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"outcome": "exploded"}, "outcome", "Not a valid choice."),
        ({"client": "no-such-client"}, "client", "Not a valid choice."),
        ({"tool": "no_such_tool"}, "tool", "Not a valid choice."),
        ({"person": "x" * 256}, "person", "At most 255 characters."),
    ],
)
def test_a_bad_filter_gets_its_message_next_to_its_field(admin_browser, calls, fields, field, message):
    response = admin_browser.get("/operations/audit" + query(**DAY, **fields))

    assert response.status_code == 400
    assert field_errors(response) == {field: message}


def test_a_cursor_this_server_did_not_make_is_a_message_not_a_500(admin_browser, calls):
    response = admin_browser.get("/operations/audit" + query(**DAY, after="not-a-cursor"))

    assert response.status_code == 400
    assert "the page cursor is not one this server made" in text(response)


def test_the_browser_filters_by_client_and_pages_through_every_record_once(admin_browser, calls):
    seen, link = [], "/operations/audit" + query(**DAY, client="client-r")
    while link:
        page = text(admin_browser.get(link.replace("&amp;", "&")))
        rows = page.split('id="records"')[1].split("</table>")[0]
        seen += [cell.split("</td>")[0] for cell in rows.split('<td class="host">request-')[1:]]
        assert "Ordinary app" not in rows
        link = page.split('id="next-page" href="')[1].split('"')[0] if 'id="next-page"' in page else ""

    assert len(seen) == len(set(seen)) == 70  # two pages of 50 and 20


def test_the_browser_filters_by_person_tool_and_outcome(admin_browser, calls):
    page = text(admin_browser.get("/operations/audit" + query(**DAY, tool="list_posts", outcome="rate_limited", person="person-1")))

    rows = page.split('id="records"')[1].split("</table>")[0]
    assert rows.count("<tr>") == 1 + 30  # the head, and a row per call
    assert rows.count("rate_limited (client limit)") == 30
    assert "no-records" in text(admin_browser.get("/operations/audit" + query(**DAY, person="person-9")))


def test_the_csv_is_the_filtered_selection_and_no_cell_starts_a_formula(admin_browser, calls):
    """OWASP, CSV Injection: a cell a spreadsheet would read as a formula starts with an apostrophe."""
    page = text(admin_browser.get("/operations/audit" + query(**DAY, outcome="tool_error")))
    link = page.split('id="csv-link" href="')[1].split('"')[0]

    response = admin_browser.get(link)
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))

    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="drawbridge-audit-20260302T0000-20260303T0000.csv"'
    expected = audit_log.browse(PERIOD, Filters(outcome="tool_error"), size=500).entries
    assert [row["request_id"] for row in rows] == [entry.request_id for entry in expected]
    assert [row["error"] for row in rows] == ["'=HYPERLINK(\"http://evil\")"]


def test_the_csv_of_one_client_holds_all_its_records_not_one_page(admin_browser, calls):
    response = admin_browser.get("/operations/audit.csv" + query(**DAY, client="client-r"))
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))

    assert len(rows) == 70
    assert {row["client_name"] for row in rows} == {"Runaway agent"}
