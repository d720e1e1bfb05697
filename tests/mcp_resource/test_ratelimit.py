"""Rate limits: exactly N calls in any minute, 429 with the headers, and Redis going away."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
import redis

import mcp_resource
from mcp_resource.guardrails.ratelimit import (
    FAIL_CLOSED,
    FAIL_OPEN,
    LimiterUnavailable,
    LocalRateLimiter,
    RedisRateLimiter,
    ResilientRateLimiter,
)
from shared import revocation
from shared.revocation import DatabaseRevocations, RedisRevocations
from tests import live
from tests.conftest import ARTIFACTS
from tests.factories import fetch_token, make_client, sign, valid_claims
from tests.mcp_http import modern_body, modern_headers, rpc


@pytest.fixture(params=["redis", "local"])
def limiter(request, redis_client, auth_context):
    return RedisRateLimiter(redis_client) if request.param == "redis" else LocalRateLimiter(DatabaseRevocations())


@pytest.fixture
def revoke(limiter, redis_client):
    """Revoke an entry where this limiter's deployment keeps revocations."""
    revocations = RedisRevocations(redis_client) if isinstance(limiter, RedisRateLimiter) else limiter.revocations
    return lambda kind, identifier: revocations.revoke(kind, identifier, int(time.time()) + 60)


def test_the_script_is_loaded_again_after_redis_forgot_it(redis_client):
    limiter = RedisRateLimiter(redis_client)
    redis_client.script_flush()  # what a Redis restart does

    assert limiter.hit(f"client-{uuid.uuid4().hex}", 5).remaining == 4


def test_admission_checks_revocation_first_and_counts_only_when_asked(limiter, revoke):
    issued_at = int(time.time())
    entries = [(revocation.TOKEN, f"jti-{uuid.uuid4().hex}"), (revocation.GRANT, f"grant-{uuid.uuid4().hex}")]
    client = f"client-{uuid.uuid4().hex}"

    assert limiter.admit(client, 2, entries, issued_at, count=False).allowed
    assert [limiter.admit(client, 2, entries, issued_at, count=True).allowed for _ in range(3)] == [True, True, False]
    revoke(*entries[1])
    refused = limiter.admit(client, 100, entries, issued_at, count=True)

    assert (refused.allowed, refused.revoked) == (False, True)
    assert limiter.admit(client, 100, entries[:1], issued_at, count=True).remaining == 97  # the revoked attempt was not counted


def test_exactly_the_limit_gets_through_then_a_retry_time(limiter):
    decisions = [limiter.hit("client-a", 5) for _ in range(8)]

    assert [d.allowed for d in decisions] == [True] * 5 + [False] * 3
    assert [d.remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
    assert 55 < decisions[-1].retry_after_seconds <= 60
    assert limiter.hit("client-b", 5).allowed  # every client has its own window


def post_tool_call(http, token: str):
    body = modern_body("tools/call", {"name": "list_posts", "arguments": {}})
    return http.post("/mcp", data=json.dumps(body), headers=modern_headers(body, token))


def test_over_the_limit_is_429_with_retry_after_ratelimit_headers_and_a_json_rpc_error(settings, auth_context):
    http = mcp_resource.create_app(replace(settings, rate_limit_per_minute=3)).test_client()
    token = sign(valid_claims(settings, scope="posts:read"))

    answers = [post_tool_call(http, token) for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert 55 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["RateLimit-Limit"] == "3"
    assert refused.headers["RateLimit-Remaining"] == "0"
    error = refused.json["error"]
    assert error["code"] == -31429
    assert error["message"].startswith("Rate limit of 3 tool calls per minute reached; retry in ")
    assert error["data"]["limit"] == 3


def test_a_clients_own_limit_applies(settings, auth_context):
    http = mcp_resource.create_app(settings).test_client()
    client = make_client(scope="posts:read", rate_limit=2)
    token = sign(valid_claims(settings, scope="posts:read", client_id=client.client.client_id, sub=client.client.client_id))

    assert [post_tool_call(http, token).status_code for _ in range(3)] == [200, 200, 429]


@pytest.fixture
def busy_server(live_services, auth_app) -> Iterator[str]:
    """The MCP server with four gevent workers, as production runs it."""
    port = live.free_port()
    env = {**live_services.env, "DRAWBRIDGE_MCP_WORKERS": "4"}
    server = live.start("mcp_resource:create_app()", "deploy/gunicorn_mcp.py", port, env, ARTIFACTS / "mcp-4-workers.log")
    yield f"{server.url}/mcp"
    server.stop()


def test_four_workers_hammered_concurrently_let_exactly_the_limit_through(settings, auth_context, busy_server):
    """One atomic Redis script per call: concurrency across worker processes cannot overshoot."""
    client = make_client(scope="posts:read", rate_limit=30)
    token = fetch_token(settings, client)

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda _: rpc(busy_server, token, "tools/call", {"name": "list_posts", "arguments": {}}).status_code, range(90)))

    assert statuses.count(200) == 30
    assert statuses.count(429) == 60


@pytest.fixture
def own_redis() -> Iterator[tuple[int, redis.Redis]]:
    """A Redis of this test's own, so it can be stopped and started without touching the others."""
    if not shutil.which("redis-server"):
        pytest.exit("redis-server is needed for the Redis-outage tests (apt-get install redis-server)", returncode=3)
    port = live.free_port()
    process = _start_redis(port)
    client = redis.Redis(port=port, socket_timeout=1, socket_connect_timeout=1)
    _wait(client)
    yield port, client
    process.terminate()
    process.wait()


def _start_redis(port: int) -> subprocess.Popen:
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL)


def _wait(client: redis.Redis) -> None:
    for _ in range(50):
        try:
            client.ping()
            return
        except redis.RedisError:
            time.sleep(0.1)
    raise AssertionError("redis did not start")


def _stop(client: redis.Redis) -> None:
    client.shutdown(nosave=True)


@pytest.mark.parametrize("behaviour", [FAIL_OPEN, FAIL_CLOSED])
def test_redis_stopped_mid_test_gives_the_configured_behaviour_and_recovers(own_redis, behaviour):
    port, client = own_redis
    limiter = ResilientRateLimiter(RedisRateLimiter(client), behaviour)
    assert limiter.hit("c", 10).allowed

    _stop(client)
    if behaviour == FAIL_OPEN:
        assert limiter.hit("c", 10).allowed  # a local window while Redis is away
    else:
        with pytest.raises(LimiterUnavailable):
            limiter.hit("c", 10)
    assert limiter.failures == 1

    process = _start_redis(port)
    try:
        _wait(client)
        assert limiter.hit("c", 10).allowed
        assert client.zcard("drawbridge:ratelimit:c") == 1  # counted in Redis again
        assert limiter.failures == 1
    finally:
        process.terminate()
        process.wait()


def test_redis_down_is_503_with_retry_after_never_500(settings, auth_context, own_redis):
    port, client = own_redis
    app = mcp_resource.create_app(replace(settings, redis_url=f"redis://127.0.0.1:{port}/0", rate_limit_on_redis_failure=FAIL_CLOSED))
    http = app.test_client()
    token = sign(valid_claims(settings, scope="posts:read"))
    assert post_tool_call(http, token).status_code == 200

    _stop(client)
    refused = post_tool_call(http, token)

    assert refused.status_code == 503
    assert refused.headers["Retry-After"]
    assert "Traceback" not in refused.get_data(as_text=True)
