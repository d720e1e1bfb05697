"""An admin watches a runaway agent in a real headless Chromium: a machine client's limit is lowered
(the service `drawbridge clients limit` calls), a burst of its tool calls meets the live MCP server,
and the operations dashboard shows the rate-limit hits and that client as the top caller; the admin
narrows the time range to the burst, filters the audit log by the client and downloads the CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page

from authserver.clients import set_rate_limit
from authserver.users import assign_role
from shared.db import utcnow
from tests.browser.conftest import look_at
from tests.factories import PASSWORD, fetch_token, make_client, make_user
from tests.mcp_http import rpc

pytestmark = pytest.mark.usefixtures("live_services", "commits")

LIMIT_PER_MINUTE = 5
BURST = 40  # under a page of the audit log (50)
MINUTE = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> takes


def test_an_admin_sees_a_runaway_client_on_the_dashboard_and_exports_its_audit_records(settings, auth_context, page: Page, axe):
    admin = make_user()
    assign_role(admin.email, "admin")
    runaway = make_client(scope="posts:read")
    client_id, name = runaway.client.client_id, runaway.client.client_name
    set_rate_limit(client_id, LIMIT_PER_MINUTE)
    token = fetch_token(settings, runaway)
    started = utcnow()

    statuses = [rpc(settings.resource_url, token, "tools/call", {"name": "list_posts", "arguments": {}}).status_code for _ in range(BURST)]

    assert statuses.count(200) == LIMIT_PER_MINUTE and statuses.count(429) == BURST - LIMIT_PER_MINUTE
    page.goto(f"{settings.issuer}/operations/")
    page.fill("#email", admin.email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("h1:has-text('Operations')")
    assert int(page.inner_text("#rate-limit-total").replace(",", "")) >= BURST - LIMIT_PER_MINUTE
    look_at(page, "dashboard-last-24-hours")

    # A week is drawn a column per day.
    page.select_option("#range", "7d")
    page.get_by_role("button", name="Show").click()
    page.wait_for_selector("h2:has-text('Calls per day')")
    assert page.locator("#series-caption").inner_text().startswith("Calls in each UTC day, 8 days")
    look_at(page, "dashboard-last-7-days")

    # Only the minutes of the burst: nothing another test called earlier competes.
    page.select_option("#range", "custom")
    page.fill("#start", started.strftime(MINUTE))
    page.fill("#end", (utcnow() + timedelta(minutes=2)).strftime(MINUTE))
    page.get_by_role("button", name="Show").click()
    page.wait_for_selector("#period")
    top = page.locator("#callers tbody tr").first
    assert top.locator("th").inner_text() == name
    assert [top.locator("td").nth(n).inner_text() for n in (0, 2)] == [str(BURST), str(BURST - LIMIT_PER_MINUTE)]
    assert page.locator("svg.columns path").count() >= 1
    hits = page.locator("#rate-limit-hits tbody tr").first
    assert hits.locator("th").inner_text() == name
    assert [hits.locator("td").nth(n).inner_text() for n in (0, 1)] == ["client", str(BURST - LIMIT_PER_MINUTE)]
    look_at(page, "dashboard-custom-range")

    page.get_by_role("link", name="Browse the audit log").click()
    page.select_option("#client", client_id)
    page.get_by_role("button", name="Show").click()
    page.wait_for_selector("#records")
    clients_shown = page.locator("#records tbody tr td:nth-child(2)").all_inner_texts()
    assert set(clients_shown) == {name} and len(clients_shown) == BURST
    look_at(page, "audit-log-one-client")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download these records as CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))

    assert len(rows) == BURST
    assert {row["client_id"] for row in rows} == {client_id}
    assert sum(row["outcome"] == "rate_limited" for row in rows) == BURST - LIMIT_PER_MINUTE
