"""An admin at the admin console in real headless Chromium, against the live services: lowers a
machine client's rate limit and the client's next burst of tool calls is rate-limited; revokes a
person's grant, disables another person, and each of their apps' next tool call is refused. Every
admin page is looked at on the way (screenshots at desktop and 390 px, axe-core)."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import look_at
from tests.factories import PASSWORD, fetch_token, make_app_client, make_client, make_person_tokens, make_user
from tests.mcp_http import rpc

pytestmark = pytest.mark.usefixtures("live_services")

# DESIGN.md: "disabling a client or revoking a grant makes its live tokens fail at once"; the issue
# allows two seconds for every MCP worker to hear of it.
REFUSED_WITHIN_SECONDS = 2.0
LOWERED_LIMIT = 3
BURST = 8


def call_tool(settings, token: str) -> int:
    return rpc(settings.resource_url, token, "tools/call", {"name": "list_posts", "arguments": {}}).status_code


def refused_soon(settings, token: str) -> int:
    """The status of the token's first refused call, waiting at most REFUSED_WITHIN_SECONDS for it."""
    since = time.monotonic()
    while (status := call_tool(settings, token)) == 200:
        assert time.monotonic() - since < REFUSED_WITHIN_SECONDS, "the token still works"
        time.sleep(0.05)
    return status


def log_in_as_admin(page: Page, settings) -> None:
    admin = make_user(roles=("admin",))
    page.goto(f"{settings.issuer}/admin/")
    page.fill("#email", admin.email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("h1:has-text('Admin console')")


def test_an_admin_lowers_a_clients_limit_and_its_next_burst_is_rate_limited(settings, auth_context, page: Page, axe):
    machine = make_client(scope="posts:read")
    token = fetch_token(settings, machine)
    log_in_as_admin(page, settings)
    look_at(page, "admin-console")

    page.get_by_role("link", name="Clients").first.click()
    look_at(page, "admin-clients")
    page.get_by_role("link", name=machine.client.client_name).click()
    page.fill("#per_minute", "0")
    page.get_by_role("button", name="Save limits").click()
    assert "at least 1" in page.inner_text("#per_minute-error")
    look_at(page, "admin-client-bad-limit")
    page.fill("#per_minute", str(LOWERED_LIMIT))
    page.get_by_role("button", name="Save limits").click()
    assert "the new limits apply from its next call" in page.inner_text("[role=status]")
    look_at(page, "admin-client")

    statuses = [call_tool(settings, token) for _ in range(BURST)]

    assert statuses == [200] * LOWERED_LIMIT + [429] * (BURST - LOWERED_LIMIT)


def test_an_admin_revokes_a_grant_and_disables_a_person_and_their_apps_next_calls_are_refused(
    settings, auth_context, page: Page, axe
):
    app = make_app_client()
    granted, disabled = make_user(), make_user()
    revoked_token = make_person_tokens(settings, app.client.client_id, granted)["access_token"]
    disabled_token = make_person_tokens(settings, app.client.client_id, disabled)["access_token"]
    assert call_tool(settings, revoked_token) == 200 and call_tool(settings, disabled_token) == 200
    log_in_as_admin(page, settings)

    page.get_by_role("link", name="Grants").first.click()
    page.fill("#person", granted.email)
    page.get_by_role("button", name="Filter").click()
    look_at(page, "admin-grants")
    page.get_by_role("link", name=f"Revoke {granted.email}'s grant to {app.client.client_name}").click()
    look_at(page, "admin-confirm")
    page.get_by_role("button", name="Revoke").click()
    assert "no longer acts for" in page.inner_text("[role=status]")
    assert refused_soon(settings, revoked_token) == 401

    page.goto(f"{settings.issuer}/admin/people")
    look_at(page, "admin-people")
    page.get_by_role("link", name=disabled.email).click()
    look_at(page, "admin-person")
    page.get_by_role("link", name="Disable…").click()
    page.get_by_role("button", name="Disable").click()
    assert "is disabled" in page.inner_text("[role=status]")
    assert refused_soon(settings, disabled_token) == 401
    assert call_tool(settings, make_person_tokens(settings, app.client.client_id)["access_token"]) == 200  # nobody else


def test_the_other_admin_pages_pass_at_both_widths(settings, auth_context, page: Page, axe):
    log_in_as_admin(page, settings)
    for area, name in [("keys", "Signing keys"), ("tools", "Tool switches"), ("registration-tokens", "Registration tokens")]:
        page.goto(f"{settings.issuer}/admin/{area}")
        assert page.inner_text("h1") == name
        look_at(page, f"admin-{area}")
    page.check("input[value='posts:read']")
    page.get_by_role("button", name="Create").click()
    assert page.input_value("#token")
    look_at(page, "admin-registration-token-created")
