"""The official MCP SDK client goes from nothing but the server URL to tool calls, via OAuth."""

from __future__ import annotations

import asyncio
import base64
import html
import json
import time

import httpx
import pytest
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken
from sqlalchemy import select

from mcp_resource.models import AuditRecord
from shared.db import db
from tests.browser_forms import FormBrowser, query
from tests.client_host import ADDRESS
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


CLIENT_METADATA = {
    "client_name": "SDK e2e client",
    "redirect_uris": [REDIRECT_URI],
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "token_endpoint_auth_method": "none",
}


def sdk_provider(
    settings, browser: FormBrowser, storage: MemoryStorage, client_metadata_url: str | None = None
) -> OAuthClientProvider:
    """The SDK's OAuth provider, its browser a FormBrowser; with `client_metadata_url` it identifies
    itself by that Client ID Metadata Document where the server supports them."""
    landed: list[str] = []

    async def redirect_handler(authorization_url: str) -> None:
        landed.append(await asyncio.to_thread(browser.consent, authorization_url))

    async def callback_handler() -> AuthorizationCodeResult:
        params = query(landed.pop())
        return AuthorizationCodeResult(code=params["code"], state=params.get("state"), iss=params.get("iss"))

    metadata = OAuthClientMetadata(**CLIENT_METADATA)
    return OAuthClientProvider(
        settings.resource_url, metadata, storage, redirect_handler, callback_handler, client_metadata_url=client_metadata_url
    )


def call_list_posts(settings, provider: OAuthClientProvider) -> tuple[list[str], list[dict]]:
    async def use_tools() -> tuple[list[str], list[dict]]:
        http = create_mcp_http_client(auth=provider)
        async with Client(streamable_http_client(settings.resource_url, http_client=http)) as client:
            tools = await client.list_tools()
            result = await client.call_tool("list_posts", {"status": "all"})
            return sorted(t.name for t in tools.tools), json.loads(result.content[0].text)

    return asyncio.run(use_tools())


@pytest.fixture
def person(auth_context):
    return make_user()


def jwt_claims(token: str) -> dict:
    """The claims of a JWT, unverified (the MCP server verified it)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_sdk_client_discovers_registers_authorizes_calls_and_refreshes(settings, person):
    storage = MemoryStorage()
    provider = sdk_provider(settings, FormBrowser(person.email, PASSWORD), storage)

    names, posts = call_list_posts(settings, provider)

    assert {"create_post", "get_post", "list_posts"} <= set(names)
    assert any(p["status"] == "draft" for p in posts)
    assert storage.client_info is not None and storage.client_info.client_id
    first = storage.tokens
    assert first is not None and first.refresh_token

    # The access token's lifetime runs out (as the client reckons it): the next call refreshes.
    provider.context.token_expiry_time = time.time() - 1
    names_again, _ = call_list_posts(settings, provider)

    assert names_again == names
    assert storage.tokens.access_token != first.access_token
    assert storage.tokens.refresh_token != first.refresh_token


def test_sdk_client_identified_by_its_metadata_document_authorizes_calls_and_refreshes(settings, person, client_host):
    """MCP 2025-11-25, Client ID Metadata Documents: the client's `client_id` is the https URL of
    its document; the server "MUST validate that the fetched document's client_id matches the URL
    exactly" and "MUST validate redirect URIs presented in an authorization request against those
    in the metadata document". The SDK uses `client_metadata_url` when the server advertises
    client_id_metadata_document_supported, and registers nothing."""
    path = client_host.new_path()
    url = client_host.url(path)
    client_host.serve_document(path, {"client_id": url, **CLIENT_METADATA}, **{"Cache-Control": "max-age=600"})
    storage = MemoryStorage()
    provider = sdk_provider(settings, FormBrowser(person.email, PASSWORD), storage, client_metadata_url=url)

    names, posts = call_list_posts(settings, provider)

    assert "list_posts" in names and posts
    assert storage.client_info is not None and storage.client_info.client_id == url
    first = storage.tokens
    assert first is not None and first.refresh_token
    assert jwt_claims(first.access_token)["client_id"] == url
    assert client_host.hits[path] == 1  # fetched once: /authorize and /token used the fresh copy
    with db.engine.connect() as connection:  # the MCP server audited the call under the document's URL
        audited = connection.execute(select(AuditRecord.tool).where(AuditRecord.client_id == url)).scalars().all()
    assert "list_posts" in audited

    provider.context.token_expiry_time = time.time() - 1
    call_list_posts(settings, provider)

    assert storage.tokens.refresh_token != first.refresh_token


def test_sdk_client_whose_document_is_on_a_private_address_is_refused_with_a_clear_page(settings, person, client_host):
    """draft-ietf-oauth-client-id-metadata-document-01 section 6.5: "Authorization servers MUST
    validate that the Client ID Metadata Document URL does not resolve to special-use IP addresses
    as defined in RFC 6890". The same document on 127.0.0.1, a host the operator did not allow, is
    never fetched; the person's browser gets a page saying why, not a redirect."""
    path = client_host.new_path()
    url = client_host.url(path, host=ADDRESS)
    client_host.serve_document(path, {"client_id": url, **CLIENT_METADATA})
    browser = FormBrowser(person.email, PASSWORD)
    pages: list[httpx.Response] = []

    async def redirect_handler(authorization_url: str) -> None:
        pages.append(await asyncio.to_thread(browser.http.get, authorization_url))

    async def callback_handler() -> AuthorizationCodeResult:
        raise RuntimeError("the authorization server sent no code back")

    provider = OAuthClientProvider(
        settings.resource_url, OAuthClientMetadata(**CLIENT_METADATA), MemoryStorage(), redirect_handler, callback_handler,
        client_metadata_url=url,
    )

    with pytest.raises(ExceptionGroup) as gave_up:  # the SDK's task group, with our callback's error
        call_list_posts(settings, provider)

    assert gave_up.group_contains(RuntimeError, match="no code back")

    [page] = pages
    assert page.status_code == 400 and "Location" not in page.headers
    assert page.headers["Content-Type"].startswith("text/html")
    assert f"is on a loopback address ({ADDRESS})" in html.unescape(page.text)
    assert client_host.hits.get(path) is None
