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
from authserver.clients import set_rate_limit
from mcp_resource.guardrails.ratelimit import (
    FAIL_CLOSED,
    FAIL_OPEN,
    Charge,
    Decision,
    LimiterUnavailable,
    LocalRateLimiter,
    RateLimiter,
    RedisRateLimiter,
    ResilientRateLimiter,
)
from shared import cache, policy, revocation
from shared.policy import ClientLimits, ClientPolicies, Defaults
from shared.revocation import DatabaseRevocations, RedisRevocations
from tests import live
from tests.conftest import ARTIFACTS
from tests.factories import fetch_token, make_client, sign, valid_claims
from tests.mcp_http import modern_body, modern_headers, rpc
from tests.staleness import Clock

DEFAULTS = Defaults(client=120, person=240)


@pytest.fixture(params=["redis", "local"])
def limiter(request, redis_client, commits, auth_context):
    """Either limiter; the local one reads limits on a connection of its own, so the test's clients are committed."""
    policies = ClientPolicies(DEFAULTS)
    return RedisRateLimiter(redis_client, policies) if request.param == "redis" else LocalRateLimiter(DatabaseRevocations(), policies)


@pytest.fixture
def revoke(limiter, redis_client):
    """Revoke an entry where this limiter's deployment keeps revocations."""
    revocations = RedisRevocations(redis_client) if isinstance(limiter, RedisRateLimiter) else limiter.revocations
    return lambda kind, identifier: revocations.revoke(kind, identifier, int(time.time()) + 60)


def hit(limiter: RateLimiter, client_id: str, person: str | None = None, tool: str = "list_posts", read_only: bool = True) -> Decision:
    """One counted call, no revocation entries."""
    return limiter.admit([], 0, Charge(client_id, person, tool, read_only))


def client_with_limit(per_minute: int | None) -> str:
    return make_client(scope="posts:read", rate_limit=per_minute).client.client_id


def test_the_script_is_loaded_again_after_redis_forgot_it(redis_client, auth_context):
    limiter = RedisRateLimiter(redis_client, ClientPolicies(DEFAULTS))
    redis_client.script_flush()  # what a Redis restart does

    assert hit(limiter, client_with_limit(5)).remaining == 4


def test_admission_checks_revocation_first_and_counts_only_when_asked(limiter, revoke):
    issued_at = int(time.time())
    entries = [(revocation.TOKEN, f"jti-{uuid.uuid4().hex}"), (revocation.GRANT, f"grant-{uuid.uuid4().hex}")]
    client = client_with_limit(3)

    charge = Charge(client, None, "list_posts")
    assert limiter.admit(entries, issued_at, None).allowed
    assert [limiter.admit(entries, issued_at, charge).allowed for _ in range(2)] == [True, True]
    revoke(*entries[1])
    refused = limiter.admit(entries, issued_at, charge)

    assert (refused.allowed, refused.revoked) == (False, True)
    assert limiter.admit(entries[:1], issued_at, charge).remaining == 0  # the revoked attempt was not counted


def test_exactly_the_limit_gets_through_then_a_retry_time(limiter):
    client = client_with_limit(5)
    decisions = [hit(limiter, client) for _ in range(8)]

    assert [d.allowed for d in decisions] == [True] * 5 + [False] * 3
    assert [d.remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
    assert {d.limit for d in decisions} == {5}
    assert 55 < decisions[-1].retry_after_seconds <= 60
    assert hit(limiter, client_with_limit(5)).allowed  # every client has its own window


def test_a_limit_written_to_redis_holds_from_the_next_call(redis_client, auth_context):
    """Every worker and instance reads the limit in the script that counts the call: nothing to go stale."""
    limiter = RedisRateLimiter(redis_client, ClientPolicies(DEFAULTS))
    client = client_with_limit(10)
    assert all(hit(limiter, client).allowed for _ in range(3))

    policy.publish_limits(redis_client, client, ClientLimits(3))
    assert not hit(limiter, client).allowed
    policy.publish_limits(redis_client, client, ClientLimits(5))
    assert hit(limiter, client).remaining == 1
    policy.publish_limits(redis_client, client, ClientLimits())  # the deployment's default again
    assert hit(limiter, client).limit == 120


def test_a_limit_redis_lost_is_filled_from_the_database(redis_client, commits, auth_context):
    limiter = RedisRateLimiter(redis_client, ClientPolicies(Defaults(client=7, person=240)))
    own, default = client_with_limit(4), client_with_limit(None)
    redis_client.flushdb()  # what a Redis restart does

    assert hit(limiter, own).limit == 4
    assert hit(limiter, default).limit == 7
    assert hit(limiter, "not-a-registered-client").limit == 7
    assert [redis_client.hget(policy.limits_key(c), "client") for c in (own, default)] == [b"4", b"0"]


def test_the_in_process_limiter_applies_a_changed_limit_within_seconds(commits, auth_context, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(cache, "time", clock)
    limiter = LocalRateLimiter(DatabaseRevocations(), ClientPolicies(DEFAULTS))
    client = client_with_limit(5)
    assert hit(limiter, client).remaining == 4

    set_rate_limit(client, 2)
    assert hit(limiter, client).limit == 5  # this process's copy, for CACHE_SECONDS
    clock.now += policy.CACHE_SECONDS
    assert not hit(limiter, client).allowed  # 2 calls counted, 2 allowed


def post_tool_call(http, token: str):
    body = modern_body("tools/call", {"name": "list_posts", "arguments": {}})
    return http.post("/mcp", data=json.dumps(body), headers=modern_headers(body, token))


@pytest.mark.usefixtures("live_services")
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
    assert error["message"].startswith("This client's rate limit of 3 tool calls per minute is reached; retry in ")
    assert (error["data"]["limitedBy"], error["data"]["limit"]) == ("client", 3)


@pytest.mark.usefixtures("live_services")
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
def test_redis_stopped_mid_test_gives_the_configured_behaviour_and_recovers(own_redis, behaviour, commits, auth_context):
    port, client = own_redis
    limiter = ResilientRateLimiter(RedisRateLimiter(client, ClientPolicies(Defaults(client=10, person=240))), behaviour)
    assert hit(limiter, "c").allowed

    _stop(client)
    if behaviour == FAIL_OPEN:
        assert hit(limiter, "c").allowed  # a local window while Redis is away
    else:
        with pytest.raises(LimiterUnavailable):
            hit(limiter, "c")
    assert limiter.failures == 1

    process = _start_redis(port)
    try:
        _wait(client)
        assert hit(limiter, "c").allowed
        assert client.zcard("drawbridge:ratelimit:c") == 1  # counted in Redis again
        assert limiter.failures == 1
    finally:
        process.terminate()
        process.wait()


@pytest.mark.usefixtures("live_services")
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
