"""The official MCP SDK client goes from nothing but the server URL to tool calls, via OAuth."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

from tests.browser_forms import FormBrowser, query
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.usefixtures("live_services")

REDIRECT_URI = "http://127.0.0.1:47123/callback"


class MemoryStorage:
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


def sdk_provider(settings, browser: FormBrowser, storage: MemoryStorage) -> OAuthClientProvider:
    landed: list[str] = []

    async def redirect_handler(authorization_url: str) -> None:
        landed.append(await asyncio.to_thread(browser.consent, authorization_url))

    async def callback_handler() -> AuthorizationCodeResult:
        params = query(landed.pop())
        return AuthorizationCodeResult(code=params["code"], state=params.get("state"), iss=params.get("iss"))

    metadata = OAuthClientMetadata(
        client_name="SDK e2e client",
        redirect_uris=[REDIRECT_URI],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method="none",
    )
    return OAuthClientProvider(settings.resource_url, metadata, storage, redirect_handler, callback_handler)


@pytest.fixture
def person(auth_context):
    return make_user()


def test_sdk_client_discovers_registers_authorizes_calls_and_refreshes(settings, person):
    storage = MemoryStorage()
    provider = sdk_provider(settings, FormBrowser(person.email, PASSWORD), storage)

    async def use_tools() -> tuple[list[str], list[dict]]:
        http = create_mcp_http_client(auth=provider)
        async with Client(streamable_http_client(settings.resource_url, http_client=http)) as client:
            tools = await client.list_tools()
            result = await client.call_tool("list_posts", {"status": "all"})
            return sorted(t.name for t in tools.tools), json.loads(result.content[0].text)

    names, posts = asyncio.run(use_tools())

    assert {"create_post", "get_post", "list_posts"} <= set(names)
    assert any(p["status"] == "draft" for p in posts)
    assert storage.client_info is not None and storage.client_info.client_id
    first = storage.tokens
    assert first is not None and first.refresh_token

    # The access token's lifetime runs out (as the client reckons it): the next call refreshes.
    provider.context.token_expiry_time = time.time() - 1
    names_again, _ = asyncio.run(use_tools())

    assert names_again == names
    assert storage.tokens.access_token != first.access_token
    assert storage.tokens.refresh_token != first.refresh_token
