"""Log in and consent in a real headless Chromium: the login page names the app, the consent page
marks what it cannot vouch for and what writes; the scope left unticked is missing from the token."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import Page

from tests.browser.conftest import look_at
from tests.browser_forms import query
from tests.factories import PASSWORD, make_user, pkce_pair, register
from tests.mcp_http import rpc

pytestmark = pytest.mark.usefixtures("live_services")

CALLBACK = "http://127.0.0.1:47999/callback"


def test_a_person_logs_in_for_a_named_app_leaves_the_writing_scope_unticked_and_the_token_lacks_it(
    settings, auth_context, page: Page, axe
):
    person = make_user()
    client = register(settings.issuer, client_name="Acme Research Agent", redirect_uris=[CALLBACK])
    verifier, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": CALLBACK,
        "scope": "posts:read posts:write",
        "state": "xyz",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "resource": settings.resource_url,
    }
    # Nothing listens at the client's callback: answer it in the browser, as the client would.
    page.route(f"{CALLBACK}**", lambda route: route.fulfill(status=200, body="done"))

    page.goto(f"{settings.issuer}/authorize?{urlencode(params)}")
    assert page.inner_text("#asking-client") == "Acme Research Agent"
    assert "Unverified app" in page.inner_text("#asking")
    look_at(page, "login")
    page.fill("#email", person.email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.wait_for_selector("#client-name")
    assert page.inner_text("#client-name") == "Acme Research Agent"
    assert page.inner_text("#redirect-host") == "127.0.0.1"
    assert page.is_visible("text=Read the blog's posts, drafts included.")
    assert page.is_visible("text=Write, edit and publish blog posts.")
    assert "get_post" in page.inner_text("ul.scopes") and "create_post" in page.inner_text("ul.scopes")
    assert "Unverified app" in page.inner_text("#unverified")
    assert page.inner_text("#resource") == settings.resource_url
    # Writing is marked, and the person ticks it or not themselves; reading is ticked for them.
    assert page.is_checked("input[value='posts:read']")
    assert not page.is_checked("input[value='posts:write']")
    assert "Can change data" in page.inner_text("li:has(input[value='posts:write'])")
    look_at(page, "consent")
    with page.expect_request(f"{CALLBACK}**") as callback:
        page.get_by_role("button", name="Allow").click()

    landed = query(callback.value.url)
    assert landed["state"] == "xyz"
    code = landed["code"]
    token = httpx.post(
        f"{settings.issuer}/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, "client_id": client["client_id"], "code_verifier": verifier},
        timeout=10,
    ).json()
    assert token["scope"] == "posts:read"
    refused = rpc(settings.resource_url, token["access_token"], "tools/call", {"name": "create_post", "arguments": {"title": "t", "body": "b"}})
    assert refused.status_code == 403
    assert 'scope="posts:write"' in refused.headers["WWW-Authenticate"]
