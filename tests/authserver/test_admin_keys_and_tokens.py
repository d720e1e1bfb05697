"""Signing keys, registration tokens and tool switches in the admin console
(views/admin/keys.py, registration_tokens.py, tools.py), through the services their commands call."""

from __future__ import annotations

from authserver import keys
from authserver.oauth import initial_access_tokens
from mcp_resource import tool_states
from tests.page_browser import field_errors, text

TTL = 600


def test_rotating_makes_a_new_active_key_and_retires_the_old(admin_browser):
    before = {k.kid for k in keys.summaries(TTL) if k.state == "active"}

    response = admin_browser.submit("/admin/keys/rotate", page="/admin/keys")

    [active] = [k for k in keys.summaries(TTL) if k.state == "active"]
    assert response.status_code == 302 and active.kid not in before
    page = text(admin_browser.get("/admin/keys"))
    assert f"New signing key {active.kid}" in page and "retired" in page


def test_rotating_without_the_csrf_token_changes_no_key(admin_browser):
    before = keys.summaries(TTL)

    assert admin_browser.submit("/admin/keys/rotate", with_token=False).status_code == 400
    assert keys.summaries(TTL) == before


def test_a_new_registration_token_is_shown_once_and_never_listed(admin_browser):
    response = admin_browser.submit(
        "/admin/registration-tokens", scopes=["posts:read", "orders:read"], expires_in="86400", uses="2"
    )

    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    token = response.get_data(as_text=True).split('id="token" class="host" type="text" readonly value="')[1].split('"')[0]
    assert initial_access_tokens.presented(f"Bearer {token}") is not None
    listed = admin_browser.get("/admin/registration-tokens").get_data(as_text=True)
    assert token not in listed and "orders:read posts:read" in listed


def test_a_registration_token_without_scopes_or_with_zero_uses_is_refused_next_to_the_field(admin_browser):
    before = initial_access_tokens.list_issued(include_unusable=True)

    no_scopes = admin_browser.submit("/admin/registration-tokens", expires_in="86400")
    zero_uses = admin_browser.submit("/admin/registration-tokens", scopes="posts:read", expires_in="86400", uses="0")
    unknown = admin_browser.submit("/admin/registration-tokens", scopes="root:all", expires_in="86400")

    assert no_scopes.status_code == 400 and "Name the scopes" in field_errors(no_scopes)["scopes"]
    assert zero_uses.status_code == 400 and "at least 1" in field_errors(zero_uses)["uses"]
    assert unknown.status_code == 400 and "not a valid choice" in field_errors(unknown)["scopes"]
    assert initial_access_tokens.list_issued(include_unusable=True) == before


def test_revoking_a_registration_token_asks_first(admin_browser):
    issued = initial_access_tokens.issue("posts:read", 3600)
    path = f"/admin/registration-tokens/{issued.row.id}/revoke"

    assert f"Revoke registration token {issued.row.id}?" in text(admin_browser.get(path))
    assert admin_browser.submit(path, with_token=False).status_code == 400
    assert admin_browser.submit(path).status_code == 302
    assert issued.row.id not in {t.id for t in initial_access_tokens.list_issued(include_unusable=True)}
    assert admin_browser.get(path).status_code == 404


def test_a_tool_switched_off_asks_first_and_is_listed_off_until_switched_on(admin_browser):
    question = text(admin_browser.get("/admin/tools/list_posts/off"))
    off = admin_browser.submit("/admin/tools/list_posts/off")
    disabled_after_off = tool_states.disabled()
    page = text(admin_browser.get("/admin/tools"))
    on = admin_browser.submit("/admin/tools/list_posts/on", page="/admin/tools")

    assert "Switch list_posts off?" in question
    assert off.status_code == 302 and "list_posts" in disabled_after_off
    assert "Switch on list_posts" in page
    assert on.status_code == 302 and "list_posts" not in tool_states.disabled()


def test_switching_without_the_csrf_token_or_an_unknown_tool_changes_nothing(admin_browser):
    assert admin_browser.submit("/admin/tools/list_posts/off", with_token=False).status_code == 400
    assert admin_browser.submit("/admin/tools/no_such_tool/off", page="/admin/tools").status_code == 404
    assert "list_posts" not in tool_states.disabled()
