"""Issue #18, JWKS refetch: tokens naming unknown keys never hold up the rest, nor the authorization server.

Each test runs a live MCP server (gunicorn, gevent worker) whose DRAWBRIDGE_JWKS_URL points at a
stand-in for the authorization server's JWKS endpoint, which the test switches between serving the
real key set, answering 503 (down behind its proxy) and accepting requests it never answers (hung).
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import redis

from tests import live
from tests.conftest import ARTIFACTS, Live
from tests.factories import foreign_key, sign, valid_claims
from tests.mcp_http import rpc

SERVE, DOWN, HUNG = "serve", "down", "hung"
REFETCH_INTERVAL_SECONDS = 60  # far longer than any test here: every request falls within it
PROMPT_SECONDS = 2.0  # a generous bound for "not held up behind a fetch", not a speed target
JUNK_TOKENS = 20


class KeyServerStandIn:
    """The authorization server's /jwks as the test wants it: serving, down, or hung; counts requests."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.mode = SERVE
        self.requests = 0
        self.released = threading.Event()
        stand_in = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                stand_in.requests += 1
                if stand_in.mode == HUNG:
                    stand_in.released.wait()
                    return
                status, body = (200, json.dumps(document).encode()) if stand_in.mode == SERVE else (503, b"")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for_requests(self, count: int, timeout_seconds: float = 10) -> None:
        deadline = time.monotonic() + timeout_seconds
        while self.requests < count:
            assert time.monotonic() < deadline, f"the MCP server sent {self.requests} JWKS requests, not {count}"
            time.sleep(0.02)

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def key_server(live_services: Live, redis_client: redis.Redis) -> Iterator[KeyServerStandIn]:
    """The stand-in, serving the live authorization server's key set (Redis flushed: no stored copy)."""
    stand_in = KeyServerStandIn(httpx.get(f"{live_services.settings.issuer}/jwks", timeout=5).json())
    yield stand_in
    stand_in.close()


McpStarter = Callable[..., str]


@pytest.fixture
def start_mcp(live_services: Live, key_server: KeyServerStandIn) -> Iterator[McpStarter]:
    """Starts MCP servers (one gevent worker each) that fetch their keys from the stand-in."""
    started: list[live.LiveServer] = []

    def start(**env: str) -> str:
        port = live.free_port()
        resource_url = f"http://127.0.0.1:{port}/mcp"
        server_env = {
            **live_services.env,
            "DRAWBRIDGE_RESOURCE_URL": resource_url,
            "DRAWBRIDGE_JWKS_URL": key_server.url,
            "DRAWBRIDGE_MCP_WORKERS": "1",
            **env,
        }
        log_path = ARTIFACTS / f"mcp-jwks-{len(started)}.log"
        started.append(live.start("mcp_resource:create_app()", "deploy/gunicorn_mcp.py", port, server_env, log_path))
        return resource_url

    yield start
    for server in started:
        server.stop()


def valid_token(settings: Any, resource_url: str) -> str:
    """A new token (never verified before) signed with the authorization server's current key."""
    return sign(valid_claims(settings, aud=resource_url))


def junk_token(settings: Any, resource_url: str) -> str:
    """A token under a kid the authorization server never published."""
    return sign(valid_claims(settings, aud=resource_url), key=foreign_key())


def timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def restarted_with_stored_keys(start_mcp: McpStarter, key_server: KeyServerStandIn, settings: Any, mode: str) -> str:
    """A first MCP server fetches the keys and is stopped; the authorization server goes `mode`; a
    second one starts on the same Redis: a worker restarted while the authorization server is away."""
    first = start_mcp()
    assert rpc(first, valid_token(settings, first), "tools/list").status_code == 200
    key_server.mode = mode
    return start_mcp()


def test_a_known_kid_is_answered_while_unknown_kids_wait_on_a_hung_key_server(start_mcp, key_server, settings, auth_context):
    """RFC 9068 section 4: "The resource server MUST use the keys provided by the authorization
    server"; OpenID Connect Core 10.1.1: "The verifier knows to go back to the jwks_uri location to
    re-retrieve the keys when it sees an unfamiliar kid value." Going back must not stop the
    verifier from using the keys it has: while the authorization server hangs on a refetch and
    junk kids keep arriving, a valid token under a known kid is answered at once, not after the fetch."""
    url = start_mcp(DRAWBRIDGE_JWKS_CACHE_SECONDS="1", DRAWBRIDGE_JWKS_REFETCH_INTERVAL_SECONDS="1")
    assert rpc(url, valid_token(settings, url), "tools/list").status_code == 200
    key_server.mode = HUNG
    time.sleep(1.2)  # the cached set is due for a refresh, and the refetch interval has passed

    with ThreadPoolExecutor(max_workers=JUNK_TOKENS) as pool:
        junk = [pool.submit(rpc, url, junk_token(settings, url), "tools/list") for _ in range(JUNK_TOKENS)]
        key_server.wait_for_requests(2)  # the refetch is in flight and hung
        valid, seconds = timed(lambda: rpc(url, valid_token(settings, url), "tools/list"))
        junk_answers = [future.result() for future in junk]

    assert valid.status_code == 200
    assert seconds < PROMPT_SECONDS
    assert {(answer.status_code, answer.json()["error"]) for answer in junk_answers} == {(401, "invalid_token")}


@pytest.mark.parametrize(
    ("keys_in_redis", "status", "error"),
    [
        (False, 503, None),  # nothing to check any token with: a service problem, retry later
        (True, 401, "invalid_token"),  # keys known from the stored copy: the junk token is invalid
    ],
    ids=["no-keys-at-all", "keys-stored-in-redis"],
)
def test_unknown_kids_cost_one_fetch_attempt_per_interval(
    start_mcp, key_server, settings, auth_context, keys_in_redis, status, error
):
    """MCP authorization, Token Handling: "Invalid or expired tokens MUST receive a HTTP 401
    response"; RFC 6750 section 3.1, invalid_token: "The access token provided is expired, revoked,
    malformed, or invalid for other reasons." After a failed fetch, a storm of tokens under random
    kids gets its answer at once, and the authorization server sees one attempt per refetch
    interval from the worker, not one per token."""
    env = {"DRAWBRIDGE_JWKS_REFETCH_INTERVAL_SECONDS": str(REFETCH_INTERVAL_SECONDS)}
    if keys_in_redis:
        url = restarted_with_stored_keys(lambda: start_mcp(**env), key_server, settings, DOWN)
    else:
        key_server.mode = DOWN
        url = start_mcp(**env)
    requests_before = key_server.requests

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: rpc(url, junk_token(settings, url), "tools/list"), range(JUNK_TOKENS)))

    assert {answer.status_code for answer in answers} == {status}
    if error is None:
        assert all(answer.headers["Retry-After"] for answer in answers)
    else:
        assert {answer.json()["error"] for answer in answers} == {error}
    assert key_server.requests - requests_before == 1


def test_a_restarted_worker_verifies_with_the_stored_keys_while_the_key_server_hangs(
    start_mcp, key_server, settings, auth_context
):
    """RFC 9068 section 4: "The resource server MUST use the keys provided by the authorization
    server." Keys it provided before are still its keys: a worker started while the authorization
    server is away takes them from Redis and answers a valid token at once, instead of 503."""
    url = restarted_with_stored_keys(start_mcp, key_server, settings, HUNG)

    answer, seconds = timed(lambda: rpc(url, valid_token(settings, url), "tools/list"))

    assert answer.status_code == 200
    assert "tools" in answer.json()["result"]
    assert seconds < PROMPT_SECONDS
