"""End to end on live processes: token from the authserver, tools on the MCP server."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from authserver.clients import NewClient
from tests import mcp_http
from tests.factories import fetch_token, foreign_key, make_client, sign, valid_claims

pytestmark = pytest.mark.usefixtures("live_services")


@pytest.fixture
def writer(auth_context) -> NewClient:
    return make_client(scope="posts:read posts:write")


@pytest.fixture
def reader(auth_context) -> NewClient:
    return make_client(scope="posts:read")


def rpc(settings, token: str | None, method: str, params: dict | None = None) -> httpx.Response:
    return mcp_http.rpc(settings.resource_url, token, method, params)


def test_token_then_tools_over_plain_http(settings, writer):
    token = fetch_token(settings, writer)

    listed = rpc(settings, token, "tools/list")
    called = rpc(settings, token, "tools/call", {"name": "list_posts", "arguments": {"status": "published"}})

    assert listed.status_code == 200
    assert {t["name"] for t in listed.json()["result"]["tools"]} == {"list_posts", "get_post", "create_post", "update_post", "publish_post"}
    assert called.status_code == 200
    result = called.json()["result"]
    assert result["isError"] is False
    posts = json.loads(result["content"][0]["text"])
    assert "Welcome to the Drawbridge blog" in {p["title"] for p in posts}
    assert {p["status"] for p in posts} == {"published"}


def test_official_mcp_client_lists_and_calls_tools_with_the_token(settings, writer):
    token = fetch_token(settings, writer)

    async def session() -> tuple[list[str], dict]:
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
        async with Client(streamable_http_client(settings.resource_url, http_client=http)) as client:
            tools = await client.list_tools()
            created = await client.call_tool("create_post", {"title": "From the SDK", "body": "Hello."})
            post_id = json.loads(created.content[0].text)["id"]
            fetched = await client.call_tool("get_post", {"post_id": post_id})
            return [t.name for t in tools.tools], json.loads(fetched.content[0].text)

    names, post = asyncio.run(session())

    assert sorted(names) == ["create_post", "get_post", "list_posts", "publish_post", "update_post"]
    assert post["title"] == "From the SDK"
    assert post["status"] == "draft"
    assert post["author"] == writer.client.client_id


def test_token_without_a_tools_scope_can_neither_see_nor_call_it(settings, reader):
    token = fetch_token(settings, reader)

    listed = rpc(settings, token, "tools/list")
    refused = rpc(settings, token, "tools/call", {"name": "create_post", "arguments": {"title": "t", "body": "b"}})

    assert {t["name"] for t in listed.json()["result"]["tools"]} == {"list_posts", "get_post"}
    assert refused.status_code == 403
    challenge = refused.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="posts:write"' in challenge


def test_narrowed_token_from_a_broad_client_is_narrow(settings, writer):
    token = fetch_token(settings, writer, scope="posts:read")

    refused = rpc(settings, token, "tools/call", {"name": "create_post", "arguments": {"title": "t", "body": "b"}})

    assert refused.status_code == 403


BAD_TOKENS = {
    "malformed": lambda s: "not-a-jwt",
    "expired": lambda s: sign(valid_claims(s, iat=1_000_000, exp=1_000_300)),
    "wrongly-signed": lambda s: sign(valid_claims(s), key=foreign_key()),
    "wrong-audience": lambda s: sign(valid_claims(s, aud="https://other.example/mcp")),
    "wrong-issuer": lambda s: sign(valid_claims(s, iss="https://evil.example")),
    "not-an-access-token": lambda s: sign(valid_claims(s), typ="JWT"),
    "unsigned": lambda s: sign(valid_claims(s)).rsplit(".", 1)[0] + ".",
    "no-client-id": lambda s: sign(valid_claims(s, client_id=None)),
}


@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_bad_tokens_get_401_with_a_bearer_challenge(settings, auth_context, kind):
    """MCP authorization: invalid or expired tokens MUST receive an HTTP 401 response."""
    token = BAD_TOKENS[kind](settings)

    response = rpc(settings, token, "tools/list")

    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'error="invalid_token"' in challenge
    assert f'resource_metadata="{settings.resource_url.replace("/mcp", "")}/.well-known/oauth-protected-resource/mcp"' in challenge
    assert "result" not in response.json()


def test_missing_token_gets_401_that_points_to_the_resource_metadata(settings):
    response = rpc(settings, None, "tools/list")

    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert "error=" not in challenge  # RFC 6750 section 3.1: no error code without credentials
    metadata_url = challenge.split('resource_metadata="')[1].split('"')[0]
    metadata = httpx.get(metadata_url, timeout=5).json()
    assert metadata["resource"] == settings.resource_url
    assert metadata["authorization_servers"] == [settings.issuer]


def test_a_hand_signed_valid_token_is_accepted(settings, auth_context):
    """The bad tokens above differ from this one in one thing each, so each 401 is for that thing."""
    token = sign(valid_claims(settings))

    assert rpc(settings, token, "tools/list").status_code == 200
