"""A developer in a real headless Chromium: registers a machine client in the developer portal,
copies its secret with the copy button, gets a token with it and calls a tool at the live MCP
server, rotates the secret (both secrets work through the grace), disables the client (its next
token request and its next tool call are refused), and deletes it after saying yes."""

from __future__ import annotations

import time

import httpx
import pytest
from playwright.sync_api import Browser, Page

from authserver.users import assign_role
from tests.browser.conftest import DESKTOP, look_at
from tests.factories import PASSWORD, make_user
from tests.mcp_http import rpc

pytestmark = pytest.mark.usefixtures("live_services")

# DESIGN.md: "disabling a client or revoking a grant makes its live tokens fail at once"; the issue
# allows two seconds for every MCP worker to hear of it.
REFUSED_WITHIN_SECONDS = 2.0
CLIPBOARD = ["clipboard-read", "clipboard-write"]


def sign_in_as_developer(page: Page, issuer: str) -> None:
    person = make_user()
    assign_role(person.email, "developer")
    page.goto(f"{issuer}/login")
    page.fill("#email", person.email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{issuer}/")


def register_machine(page: Page, name: str) -> None:
    page.get_by_role("link", name="Register a client").click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Machine: acts on its own").check()
    page.get_by_label("Read the blog's posts, drafts included.").check()
    page.get_by_role("button", name="Register").click()
    page.wait_for_selector("#client-secret")


def copied_secret(page: Page) -> str:
    """The secret as a person takes it: the copy button, then what the clipboard holds."""
    page.get_by_role("button", name="Copy the secret").click()
    wait_until(page, "document.getElementById('client-secret-copied').textContent === 'Copied.'")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.inner_text("#client-secret").strip()
    return copied


def token_request(settings, client_id: str, secret: str) -> httpx.Response:
    data = {"grant_type": "client_credentials", "resource": settings.resource_url}
    return httpx.post(f"{settings.issuer}/token", data=data, auth=(client_id, secret), timeout=10)


def call_list_posts(settings, token: str) -> httpx.Response:
    return rpc(settings.resource_url, token, "tools/call", {"name": "list_posts", "arguments": {}})


def test_a_developer_registers_a_machine_uses_its_secret_rotates_it_and_disables_it(settings, auth_context, page: Page, axe):
    page.context.grant_permissions(CLIPBOARD, origin=settings.issuer)
    sign_in_as_developer(page, settings.issuer)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Developer portal").click()
    assert page.inner_text("h1") == "Your clients"
    look_at(page, "portal-empty")
    page.get_by_role("link", name="Register a client").click()
    assert "A machine client may hold only these scopes" in page.inner_text("#machine-allowance")
    look_at(page, "portal-register")
    page.get_by_role("link", name="Back to your clients").click()

    register_machine(page, "Nightly report job")
    secret = copied_secret(page)
    client_id = page.inner_text("#client-id")
    look_at(page, "portal-new-secret")
    issued = token_request(settings, client_id, secret)
    assert issued.status_code == 200, issued.text
    token = issued.json()["access_token"]
    called = call_list_posts(settings, token)
    assert called.status_code == 200 and called.json()["result"]["isError"] is False

    page.get_by_label("The old secret keeps working for").select_option(label="1 hour")
    page.get_by_role("button", name="Rotate the secret").click()
    page.wait_for_selector("#client-secret")
    new_secret = copied_secret(page)
    assert new_secret != secret
    assert "The old secret keeps working until" in page.inner_text("#grace")
    look_at(page, "portal-rotated")
    for either in (secret, new_secret):
        assert token_request(settings, client_id, either).status_code == 200
    page.reload()  # a GET of the page: the secret is not shown again
    assert page.locator("#client-secret").count() == 0
    assert new_secret not in page.content()

    page.get_by_role("button", name="Disable").click()
    disabled_at = time.monotonic()
    assert "is disabled" in page.inner_text("[role=status]")
    look_at(page, "portal-disabled")
    refused = token_request(settings, client_id, new_secret)
    assert refused.status_code in (400, 401) and refused.json()["error"] == "invalid_client"
    while (status := call_list_posts(settings, token).status_code) == 200:
        assert time.monotonic() - disabled_at < REFUSED_WITHIN_SECONDS, "the disabled client's token still works"
        time.sleep(0.05)
    assert status == 401

    page.get_by_role("link", name="Delete it for good").click()
    assert page.inner_text("h1") == "Delete Nightly report job?"
    look_at(page, "portal-delete")
    page.get_by_role("button", name="Delete for good").click()
    assert "Nightly report job is deleted" in page.inner_text("[role=status]")
    assert page.locator("table").count() == 0
    assert token_request(settings, client_id, new_secret).json()["error"] == "invalid_client"


def wait_until(page: Page, holds: str, seconds: float = 5.0) -> None:
    """Poll the expression `holds` from Python: the page's CSP refuses Playwright's in-page waiting."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(holds):
        assert time.monotonic() < deadline, f"{holds} never held"
        time.sleep(0.02)


def tab_to(page: Page, focused: str, most: int = 60) -> None:
    """Press Tab until the expression `focused` holds (at most `most` times)."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate(focused):
            return
    raise AssertionError(f"Tab never reached {focused}")


def register_by_keyboard(page: Page, name: str) -> None:
    """The registration form with the keyboard alone: the name has the focus, arrows pick the kind,
    Tab reaches each scope and Space ticks it, Enter on the button sends it."""
    page.get_by_role("link", name="Register a client").click()
    page.wait_for_url("**/portal/clients/new")
    wait_until(page, "document.activeElement.id === 'name'")  # autofocus lands a frame after the load
    page.keyboard.type(name)
    page.keyboard.press("Tab")  # into the kinds, on the one chosen (web)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.get_by_label("Machine: acts on its own").is_checked()
    tab_to(page, "document.activeElement.value === 'posts:read'")
    page.keyboard.press("Space")
    tab_to(page, "document.activeElement.textContent === 'Register'")
    page.keyboard.press("Enter")
    page.wait_for_selector("#client-secret")


def test_the_copy_button_works_under_the_pages_own_csp(settings, auth_context, chromium: Browser):
    """The journey's context bypasses the CSP so axe-core can be injected; this one does not: the
    copy button's script is a file the CSP's script-src 'self' allows, with nothing inline. The form
    is filled by keyboard alone."""
    context = chromium.new_context(viewport=DESKTOP)
    context.grant_permissions(CLIPBOARD, origin=settings.issuer)
    page = context.new_page()
    refusals: list[str] = []
    page.on("console", lambda message: refusals.append(message.text) if "Content Security Policy" in message.text else None)
    try:
        sign_in_as_developer(page, settings.issuer)
        page.goto(f"{settings.issuer}/portal")
        register_by_keyboard(page, "CSP check")
        scopes = page.locator("h2:has-text('Scopes it holds') + ul").inner_text()
        secret = copied_secret(page)
    finally:
        context.close()

    assert len(secret) > 30
    assert refusals == []
    assert scopes.strip() == "Read the blog's posts, drafts included. (posts:read)"
