"""A person connects the official MCP SDK client through login and consent in a real headless
Chromium, finds it under Connected apps, disconnects it, and the client's next tool call is refused."""

from __future__ import annotations

import asyncio
import queue
import threading
import time

import pytest
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata
from playwright.sync_api import Page

from authserver.grants import list_grants
from tests.browser.conftest import look_at
from tests.browser_forms import query
from tests.e2e.test_oauth_dance import CLIENT_METADATA, REDIRECT_URI, MemoryStorage
from tests.factories import PASSWORD, make_user
from tests.mcp_http import rpc

pytestmark = pytest.mark.usefixtures("live_services")

# DESIGN.md: "disabling a client or revoking a grant makes its live tokens fail at once"; the issue
# allows two seconds for every MCP worker to hear of it.
REFUSED_WITHIN_SECONDS = 2.0
WAIT_SECONDS = 60


class SdkClient(threading.Thread):
    """The MCP SDK client on its own thread and event loop, so the test's thread can be the person
    at the browser: the client hands over the authorization URL and waits for the callback URL."""

    def __init__(self, settings) -> None:
        super().__init__(daemon=True)
        self.settings = settings
        self.storage = MemoryStorage()
        self.authorization_urls: queue.Queue[str] = queue.Queue()
        self.callback_urls: queue.Queue[str] = queue.Queue()
        self.posts: str | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._call_list_posts())
        except BaseException as error:  # handed to the test's thread
            self.error = error

    async def _call_list_posts(self) -> None:
        async def redirect_handler(authorization_url: str) -> None:
            self.authorization_urls.put(authorization_url)

        async def callback_handler() -> AuthorizationCodeResult:
            params = query(await asyncio.to_thread(self.callback_urls.get, True, WAIT_SECONDS))
            return AuthorizationCodeResult(code=params["code"], state=params.get("state"), iss=params.get("iss"))

        provider = OAuthClientProvider(
            self.settings.resource_url, OAuthClientMetadata(**CLIENT_METADATA), self.storage, redirect_handler, callback_handler
        )
        http = create_mcp_http_client(auth=provider)
        async with Client(streamable_http_client(self.settings.resource_url, http_client=http)) as client:
            result = await client.call_tool("list_posts", {"status": "published"})
            self.posts = result.content[0].text


def test_a_person_connects_the_sdk_client_sees_it_disconnects_it_and_its_next_call_is_refused(
    settings, auth_context, page: Page, axe
):
    person = make_user()
    client = SdkClient(settings)
    page.route(f"{REDIRECT_URI}**", lambda route: route.fulfill(status=200, body="done"))
    client.start()

    page.goto(client.authorization_urls.get(timeout=WAIT_SECONDS))
    assert page.inner_text("#asking-client") == CLIENT_METADATA["client_name"]
    page.fill("#email", person.email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("#client-name")
    assert "registered itself" in page.inner_text("#unverified")
    assert page.inner_text("#resource") == settings.resource_url
    assert "until you disconnect it" in page.inner_text("#duration")
    look_at(page, "consent-sdk-client")
    with page.expect_request(f"{REDIRECT_URI}**") as callback:
        page.get_by_role("button", name="Allow").click()
    client.callback_urls.put(callback.value.url)
    client.join(WAIT_SECONDS)

    assert client.error is None, repr(client.error)
    assert client.posts is not None and "title" in client.posts
    token = client.storage.tokens.access_token
    assert rpc(settings.resource_url, token, "tools/call", {"name": "list_posts", "arguments": {}}).status_code == 200

    page.goto(f"{settings.issuer}/account/apps")
    app = page.locator("ul.apps > li", has_text=CLIENT_METADATA["client_name"])
    assert "Read the blog's posts, drafts included." in app.inner_text()
    assert "Unverified" in app.inner_text()
    look_at(page, "connected-apps")
    app.get_by_role("button", name=f"Disconnect {CLIENT_METADATA['client_name']}").click()
    disconnected_at = time.monotonic()

    assert "is disconnected" in page.inner_text("[role=status]")
    assert page.locator("ul.apps > li", has_text=CLIENT_METADATA["client_name"]).count() == 0
    look_at(page, "connected-apps-disconnected")
    while (status := rpc(settings.resource_url, token, "tools/call", {"name": "list_posts", "arguments": {}}).status_code) == 200:
        assert time.monotonic() - disconnected_at < REFUSED_WITHIN_SECONDS, "the disconnected client's token still works"
        time.sleep(0.05)
    assert status == 401
    assert list_grants(user_email=person.email) == []
