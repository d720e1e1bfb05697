"""Resource subscriptions over real HTTP, against two live instances of two gevent workers each on
one Redis: a change made through one instance's tool reaches the subscriber whose stream the other
instance holds (so another process by construction), in every era (2024-11-05's /sse too); unsubscribing stops it; a token
that may not read a resource may not subscribe to it; and the official SDK client hears the update."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.types import ResourceUpdatedNotification
from sqlalchemy import select

from mcp_resource.models import AuditRecord
from shared.db import db
from tests import live
from tests.conftest import ARTIFACTS
from tests.factories import fetch_token, make_client
from tests.mcp_http import LEGACY, modern_body, modern_headers, rpc

ACCEPT = "application/json, text/event-stream"
WAIT_SECONDS = 10
SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId"


@pytest.fixture(scope="module")
def instances(live_services) -> Iterator[tuple[str, str]]:
    """Two MCP server instances of two workers each, on the live services' database and Redis (and
    their resource URL, so tokens are for both): the `/mcp` URL of each."""
    servers = []
    for name in ("a", "b"):
        env = {**live_services.env, "DRAWBRIDGE_MCP_WORKERS": "2"}
        servers.append(live.start("mcp_resource:create_app()", "deploy/gunicorn_mcp.py", live.free_port(), env, ARTIFACTS / f"mcp-subscriptions-{name}.log"))
    yield servers[0].url + "/mcp", servers[1].url + "/mcp"
    for server in servers:
        server.stop()


@pytest.fixture
def token(settings, auth_context) -> str:
    return fetch_token(settings, make_client(scope="posts:read posts:write"))


def draft(url: str, token: str) -> int:
    """A new draft post, made through `url`: its id."""
    created = rpc(url, token, "tools/call", {"name": "create_post", "arguments": {"title": "Watched", "body": "First words."}})
    return json.loads(created.json()["result"]["content"][0]["text"])["id"]


def edit(url: str, token: str, post_id: int) -> None:
    """update_post through `url` (a tool call on a connection of its own)."""
    edited = rpc(url, token, "tools/call", {"name": "update_post", "arguments": {"post_id": post_id, "body": f"Edited at {time.time()}."}})
    assert edited.json()["result"]["isError"] is False


class LegacySession:
    """A 2025-11-25 session started on one instance; its requests go to whichever URL is given."""

    def __init__(self, url: str, token: str) -> None:
        self.headers = {"Authorization": f"Bearer {token}", "Accept": ACCEPT}
        init = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": LEGACY, "capabilities": {}}}
        self.headers["Mcp-Session-Id"] = httpx.post(url, json=init, headers=self.headers, timeout=10).headers["Mcp-Session-Id"]
        self.headers["MCP-Protocol-Version"] = LEGACY

    def send(self, url: str, method: str, params: dict[str, Any]) -> httpx.Response:
        return httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, headers=self.headers, timeout=10)

    def stream(self, url: str) -> httpx._client.StreamContextManager:  # type: ignore[name-defined]
        return httpx.stream("GET", url, headers={**self.headers, "Accept": "text/event-stream"}, timeout=10)


def next_update(lines: Iterator[str]) -> dict[str, Any]:
    """The next resources/updated on a stream (keep-alives every second keep the loop moving)."""
    deadline = time.monotonic() + WAIT_SECONDS
    for line in lines:
        if line.startswith("data: {"):
            message = json.loads(line[6:])
            if message.get("method") == "notifications/resources/updated":
                return message
        assert time.monotonic() < deadline, "no resources/updated arrived"
    raise AssertionError("the stream ended")


def test_a_legacy_sessions_stream_hears_a_change_another_instance_made(instances, token):
    """2025-11-25 resources: after resources/subscribe, the server sends notifications/resources/updated
    when the resource changes; here the subscription is made through instance B, the stream is held by
    instance A and the change is a tool call through B: three requests, two processes at least."""
    a, b = instances
    post_id = draft(b, token)
    session = LegacySession(a, token)

    subscribed = session.send(b, "resources/subscribe", {"uri": f"drawbridge://posts/{post_id}"})
    with session.stream(a) as stream:
        lines = stream.iter_lines()
        assert next(lines) == ": keep-alive"  # open, and its worker listening
        edit(b, token, post_id)
        update = next_update(lines)

    assert subscribed.json()["result"] == {}
    assert update["params"] == {"uri": f"drawbridge://posts/{post_id}"}


def test_a_listen_stream_hears_a_change_another_instance_made(instances, token):
    """2026-07-28 subscriptions: notifications/resources/updated arrives on the subscriptions/listen
    stream that asked for the URI in `resourceSubscriptions`, with its subscriptionId in `_meta`."""
    a, b = instances
    post_id = draft(b, token)
    uri = f"drawbridge://posts/{post_id}"
    body = modern_body("subscriptions/listen", {"notifications": {"resourceSubscriptions": [uri]}}, message_id="watch-1")

    with httpx.stream("POST", a, json=body, headers=modern_headers(body, token), timeout=10) as stream:
        lines = stream.iter_lines()
        acknowledged = json.loads(next(line for line in lines if line.startswith("data: "))[6:])
        edit(b, token, post_id)
        update = next_update(lines)

    assert acknowledged["params"]["notifications"] == {"resourceSubscriptions": [uri]}
    assert update["params"] == {"uri": uri, "_meta": {SUBSCRIPTION_ID: "watch-1"}}


def test_a_2024_session_hears_the_change_on_its_sse_stream(instances, token):
    """2024-11-05 HTTP+SSE: the session's one stream (GET /sse) carries its answers and the
    notifications/resources/updated of what it subscribed to through POST /messages."""
    a, b = instances
    post_id = draft(b, token)
    headers = {"Authorization": f"Bearer {token}"}
    subscribe = {"jsonrpc": "2.0", "id": 7, "method": "resources/subscribe", "params": {"uri": f"drawbridge://posts/{post_id}"}}

    with httpx.stream("GET", a.removesuffix("/mcp") + "/sse", headers={**headers, "Accept": "text/event-stream"}, timeout=10) as stream:
        lines = stream.iter_lines()
        endpoint = next(line for line in lines if line.startswith("data: /messages"))[6:]
        posted = httpx.post(b.removesuffix("/mcp") + endpoint, json=subscribe, headers=headers, timeout=10)
        answer = json.loads(next(line for line in lines if line.startswith("data: {"))[6:])
        edit(b, token, post_id)
        update = next_update(lines)

    assert (posted.status_code, answer) == (202, {"jsonrpc": "2.0", "id": 7, "result": {}})
    assert update["params"] == {"uri": f"drawbridge://posts/{post_id}"}


def test_after_unsubscribe_a_change_is_no_longer_sent(instances, token):
    """resources/unsubscribe ends the updates of that URI for the session, whichever worker hears it;
    the other subscription goes on (its update arriving first proves the other one was not sent)."""
    a, b = instances
    dropped, kept = draft(b, token), draft(b, token)
    session = LegacySession(a, token)
    for post_id in (dropped, kept):
        session.send(a, "resources/subscribe", {"uri": f"drawbridge://posts/{post_id}"})

    unsubscribed = session.send(b, "resources/unsubscribe", {"uri": f"drawbridge://posts/{dropped}"})
    with session.stream(a) as stream:
        lines = stream.iter_lines()
        next(lines)
        edit(b, token, dropped)
        edit(b, token, kept)
        update = next_update(lines)

    assert unsubscribed.json()["result"] == {}
    assert update["params"] == {"uri": f"drawbridge://posts/{kept}"}


@pytest.mark.parametrize("era", ["2025-11-25", "2026-07-28"])
def test_a_token_that_may_not_read_a_resource_may_not_subscribe_to_it(settings, instances, auth_context, era):
    """Resources, security considerations: "Resource permissions SHOULD be checked before
    operations"; authorization, runtime insufficient scope errors: "When a client makes a request with
    an access token with insufficient scope during runtime operations, the server SHOULD respond with:
    HTTP 403 Forbidden ... error="insufficient_scope" ... scope=".." specifying the minimum scopes". Subscribing takes resources/read's scope check, in the same
    pipeline step (so the same step-up refusal, before any stream opens), and the refusal is audited
    as a read's would be."""
    a, _ = instances
    reader = fetch_token(settings, make_client(scope="posts:read"))
    if era == LEGACY:
        refused = LegacySession(a, reader).send(a, "resources/subscribe", {"uri": "drawbridge://products/1"})
    else:
        body = modern_body("subscriptions/listen", {"notifications": {"resourceSubscriptions": ["drawbridge://products/1"]}})
        refused = httpx.post(a, json=body, headers=modern_headers(body, reader), timeout=10)

    assert refused.status_code == 403
    assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]
    assert 'scope="products:read"' in refused.headers["WWW-Authenticate"]
    assert refused.json() == {"error": "insufficient_scope", "error_description": "The resource drawbridge://products/1 needs the scope products:read."}
    rows = list(db.session.scalars(select(AuditRecord).where(AuditRecord.request_id == refused.headers["X-Request-Id"])))
    assert [(r.tool, r.outcome) for r in rows] == [("resources/subscribe drawbridge://products/{id}", "refused")]


def test_the_sdk_client_hears_the_update_of_what_it_subscribed_to(settings, instances, token):
    """The official SDK client in 2025-11-25: ClientSession.subscribe_resource, then its message
    handler receives a ResourceUpdatedNotification for a change made through the other instance.
    The SDK opens its GET stream by itself, after initialize; until it is open a change is heard by
    nobody, so the change is made again until the handler hears one."""
    a, b = instances
    post_id = draft(b, token)
    uri = f"drawbridge://posts/{post_id}"
    heard: list[ResourceUpdatedNotification] = []

    async def handler(message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            heard.append(message)

    async def session() -> None:
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
        async with Client(streamable_http_client(a, http_client=http), mode="legacy", message_handler=handler) as client:
            await client.session.subscribe_resource(uri)
            deadline = time.monotonic() + WAIT_SECONDS
            while not heard and time.monotonic() < deadline:
                await asyncio.to_thread(edit, b, token, post_id)
                await asyncio.sleep(0.5)

    asyncio.run(session())

    assert heard, "the message handler heard no resources/updated"
    assert str(heard[0].params.uri) == uri


def test_the_sdk_listen_hears_the_update_of_a_resource_subscription(settings, instances, token):
    """The official SDK client in 2026-07-28: Client.listen(resource_subscriptions=[...]) yields a
    ResourceUpdated event for a change made through the other instance."""
    a, b = instances
    post_id = draft(b, token)
    uri = f"drawbridge://posts/{post_id}"

    async def session() -> tuple[Any, Any]:
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
        async with Client(streamable_http_client(a, http_client=http), mode="auto") as client:
            async with client.listen(resource_subscriptions=[uri]) as subscription:
                await asyncio.to_thread(edit, b, token, post_id)
                event = await asyncio.wait_for(subscription.__anext__(), WAIT_SECONDS)
                return subscription.honored, event

    honored, event = asyncio.run(session())

    assert list(honored.resource_subscriptions) == [uri]
    assert str(event.uri) == uri
