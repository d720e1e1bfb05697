"""Log in and consent in a real headless Chromium; the unticked scope is missing from the token."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser_forms import query
from tests.conftest import ARTIFACTS
from tests.factories import PASSWORD, make_user, pkce_pair, register
from tests.mcp_http import rpc
from tests.services import ServiceUnavailable, find_chromium

pytestmark = pytest.mark.usefixtures("live_services")

CALLBACK = "http://127.0.0.1:47999/callback"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    try:
        executable = find_chromium()
    except ServiceUnavailable as error:
        pytest.exit(str(error), returncode=3)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context()
    page = context.new_page()
    yield page
    context.close()


def test_a_person_logs_in_unticks_a_scope_and_the_token_lacks_it(settings, auth_context, page: Page):
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
    ARTIFACTS.mkdir(exist_ok=True)

    page.goto(f"{settings.issuer}/authorize?{urlencode(params)}")
    page.screenshot(path=str(ARTIFACTS / "login.png"), full_page=True)
    page.fill("#email", person.email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.wait_for_selector("#client-name")
    assert page.inner_text("#client-name") == "Acme Research Agent"
    assert page.inner_text("#redirect-host") == "127.0.0.1"
    assert page.is_visible("text=Read the blog's posts, drafts included.")
    assert page.is_visible("text=Write, edit and publish blog posts.")
    assert "get_post" in page.inner_text("ul.scopes") and "create_post" in page.inner_text("ul.scopes")
    page.screenshot(path=str(ARTIFACTS / "consent.png"), full_page=True)
    page.uncheck("input[value='posts:write']")
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
