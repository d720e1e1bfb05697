"""Rate-limit policies (issue #21): per client, per person across all the clients they use, and per
tool (tools that are not read-only tighter), each with a default and a client's own override; all
checked in one Redis round trip; a refusal consumes nothing and names the limit that is full."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace

import httpx
import pytest
import redis
from flask import Flask
from sqlalchemy import select

import mcp_resource
from authserver.clients import set_rate_limit
from mcp_resource.auth import Principal
from mcp_resource.demo.tools.orders import CancelOrder
from mcp_resource.guardrails.ratelimit import Charge, Decision, LocalRateLimiter, RateLimiter, RedisRateLimiter
from mcp_resource.models import AuditRecord
from shared.db import db
from shared.policy import ClientPolicies, Defaults
from shared.revocation import DatabaseRevocations
from tests import live
from tests.conftest import ARTIFACTS, migrate
from tests.factories import make_app_client, make_client, make_person_tokens, make_user, sign, valid_claims
from tests.mcp_http import modern_body, modern_headers, rpc

READ, WRITE = "list_posts", "create_post"
POST = {"title": "A post", "body": "Its body."}
# The policy reader takes a connection of its own (policy._read_limits), which sees only what is committed.
pytestmark = pytest.mark.usefixtures("commits")


@pytest.fixture(params=["redis", "local"])
def limiter_with(request, redis_client, auth_context) -> Callable[[Defaults], RateLimiter]:
    """A limiter of each kind with the given defaults: Redis's script, and the embedded default's windows."""

    def make(defaults: Defaults) -> RateLimiter:
        policies = ClientPolicies(defaults)
        return RedisRateLimiter(redis_client, policies) if request.param == "redis" else LocalRateLimiter(DatabaseRevocations(), policies)

    return make


def new_id(kind: str) -> str:
    return f"{kind}-{secrets.token_hex(4)}"


def hit(limiter: RateLimiter, client: str, person: str | None = None, tool: str = READ, declared: int | None = None) -> Decision:
    """One counted call to `tool` (the demo's: list_posts is read-only, create_post is not)."""
    return limiter.admit([], 0, Charge(client, person, tool, read_only=tool == READ, declared=declared))


def test_a_persons_calls_count_across_all_their_clients_and_a_new_client_starts_no_new_bucket(limiter_with):
    limiter = limiter_with(Defaults(client=120, person=3))
    person, first, second = new_id("person"), new_id("client"), new_id("client")

    allowed = [hit(limiter, first, person).allowed, hit(limiter, second, person).allowed, hit(limiter, first, person).allowed]
    registered_again = hit(limiter, new_id("client"), person)

    assert allowed == [True, True, True]
    assert (registered_again.allowed, registered_again.limited_by, registered_again.limit) == (False, "person", 3)
    assert 55 < registered_again.retry_after_seconds <= 60
    assert hit(limiter, first, new_id("person")).allowed  # another person's calls are theirs


def test_a_client_acting_for_itself_has_no_person_limit(limiter_with):
    """A client_credentials token's `sub` is its client (RFC 9068 section 2.2): no person to count."""
    limiter = limiter_with(Defaults(client=5, person=1))
    client = new_id("client")

    decisions = [hit(limiter, client) for _ in range(6)]

    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert decisions[-1].limited_by == "client"


def test_a_tool_that_is_not_read_only_has_the_tighter_limit_per_caller(limiter_with):
    limiter = limiter_with(Defaults(client=120, person=240, mutation=2))
    client, person = new_id("client"), new_id("person")

    writes = [hit(limiter, client, tool=WRITE) for _ in range(3)]

    assert [d.allowed for d in writes] == [True, True, False]
    assert (writes[-1].limited_by, writes[-1].limit) == ("tool", 2)
    assert hit(limiter, client, tool=READ).allowed  # read-only tools have no tool limit by default
    assert hit(limiter, new_id("client"), tool=WRITE).allowed  # each caller has its own
    # A person's calls of a tool count across their clients, as their other calls do.
    assert [hit(limiter, new_id("client"), person, tool=WRITE).allowed for _ in range(3)] == [True, True, False]


def test_a_tool_may_declare_a_tighter_limit_and_never_a_looser_one(limiter_with):
    limiter = limiter_with(Defaults(client=120, person=240, tool=50, mutation=3))
    reader, writer = new_id("client"), new_id("client")

    assert [hit(limiter, reader, declared=1).allowed for _ in range(2)] == [True, False]
    assert [hit(limiter, writer, tool=WRITE, declared=60).allowed for _ in range(4)] == [True, True, True, False]


def test_a_refused_call_consumes_nothing_from_the_other_limits(limiter_with):
    """A call is counted in every limit or in none: a refusal by one never uses up another."""
    limiter = limiter_with(Defaults(client=3, person=4, mutation=1))
    person, first, second = new_id("person"), new_id("client"), new_id("client")

    steps = [
        hit(limiter, first, person, WRITE),  # client 1, person 1, tool 1
        hit(limiter, first, person, WRITE),  # refused by the tool: nothing counted
        hit(limiter, first, person),  # client 2, person 2
        hit(limiter, first, person),  # client 3, person 3
        hit(limiter, first, person),  # refused by the client: the person keeps a call
        hit(limiter, second, person),  # person 4
        hit(limiter, second, person),  # refused by the person
    ]

    assert [d.allowed for d in steps] == [True, False, True, True, False, True, False]
    assert [d.limited_by for d in steps if not d.allowed] == ["tool", "client", "person"]


def test_a_clients_own_limits_override_the_defaults(limiter_with):
    limiter = limiter_with(Defaults(client=120, person=240, mutation=1))
    client = make_client(scope="posts:read posts:write").client.client_id
    set_rate_limit(client, 50, person=2, tools={WRITE: 3})
    person = new_id("person")

    writes = [hit(limiter, client, tool=WRITE) for _ in range(4)]
    persons = [hit(limiter, client, person) for _ in range(3)]

    assert [d.allowed for d in writes] == [True, True, True, False]
    assert [(d.allowed, d.limit) for d in persons] == [(True, 2), (True, 2), (False, 2)]
    assert hit(limiter, client).limit == 50


def test_limits_redis_lost_are_filled_from_the_database_tools_and_all(redis_client, auth_context):
    limiter = RedisRateLimiter(redis_client, ClientPolicies(Defaults(client=120, person=240, mutation=1)))
    client = make_client(scope="posts:read posts:write").client.client_id
    set_rate_limit(client, 50, person=2, tools={WRITE: 3})
    redis_client.flushdb()  # what a Redis restart does

    assert [hit(limiter, client, tool=WRITE).allowed for _ in range(4)] == [True, True, True, False]
    assert redis_client.hgetall(f"drawbridge:client-limits:{client}") == {b"client": b"50", b"person": b"2", b"tool:create_post": b"3"}


@pytest.mark.parametrize(("full_wait", "other_wait", "expected"), [(55, 10, "tool"), (10, 55, "client")])
def test_when_several_limits_are_full_the_refusal_names_the_longest_wait(redis_client, auth_context, full_wait, other_wait, expected):
    """Retry-After is when the call could pass, so the time until every full limit has room."""
    limiter = RedisRateLimiter(redis_client, ClientPolicies(Defaults(client=1, person=240, mutation=1)))
    charge = Charge(new_id("client"), None, WRITE, read_only=False)
    client_window, tool_window = charge.window_keys()
    seconds, micros = redis_client.time()
    now_ms = seconds * 1000 + micros // 1000
    redis_client.zadd(tool_window, {"earlier": now_ms - (60 - full_wait) * 1000})
    redis_client.zadd(client_window, {"earlier": now_ms - (60 - other_wait) * 1000})

    refused = limiter.admit([], 0, charge)

    assert (refused.allowed, refused.limited_by) == (False, expected)
    assert max(full_wait, other_wait) - 2 < refused.retry_after_seconds <= max(full_wait, other_wait)


# What a client sees: the 429 and its JSON-RPC error name the limit; the audit row records it.


def call(http, token: str, tool: str):
    body = modern_body("tools/call", {"name": tool, "arguments": POST if tool == WRITE else {}})
    return http.post("/mcp", data=json.dumps(body), headers=modern_headers(body, token))


def person_claims(settings, person: str, client: str) -> dict:
    """A token a person's consent gave `client`: its `sub` is the person, and it has a grant."""
    return valid_claims(settings, scope="posts:read posts:write", sub=person, client_id=client, grant_id=new_id("grant"))


REFUSALS = {
    "client": (
        {"rate_limit_per_minute": 2}, READ,
        "This client's rate limit of 2 tool calls per minute is reached; retry in ",
    ),
    "person": (
        {"person_rate_limit_per_minute": 2}, READ,
        "The person's rate limit of 2 tool calls per minute, across all the clients they use, is reached; retry in ",
    ),
    "tool": (
        {"mutation_rate_limit_per_minute": 2}, WRITE,
        "The rate limit of 2 calls per minute to the tool create_post is reached; retry in ",
    ),
}


@pytest.mark.usefixtures("live_services")
@pytest.mark.parametrize("limit", list(REFUSALS))
def test_the_refusal_names_the_limit_and_when_to_retry_and_the_audit_row_records_it(settings, auth_context, limit):
    """The 429 says which limit was hit (issue #21), with Retry-After (RFC 6585 section 4)."""
    overrides, tool, message = REFUSALS[limit]
    app = mcp_resource.create_app(replace(settings, **overrides))
    http = app.test_client()
    person = new_id("person")
    tokens = [sign(person_claims(settings, person, new_id("client"))) for _ in range(3)]  # a client each: only the person's limit is shared
    if limit == "client":
        tokens = [tokens[0]] * 3

    answers = [call(http, token, tool) for token in tokens]

    assert [a.status_code for a in answers] == [200, 200, 429]
    refused = answers[-1]
    retry = int(refused.headers["Retry-After"])
    assert 55 <= retry <= 60
    error = refused.json["error"]
    assert (error["code"], error["message"]) == (-31429, f"{message}{retry} seconds.")
    expected = {"limitedBy": limit, "limit": 2, "windowSeconds": 60, "retryAfterSeconds": retry} | ({"tool": WRITE} if limit == "tool" else {})
    assert error["data"] == expected
    (row,) = db.session.scalars(select(AuditRecord).where(AuditRecord.request_id == refused.headers["X-Request-Id"]))
    assert (row.outcome, row.rate_limit, row.error) == ("rate_limited", limit, error["message"])


# One Redis round trip per call, counted where Redis sees it.


@contextmanager
def monitored(url: str) -> Iterator[list[str]]:
    """The commands clients sent Redis meanwhile (MONITOR), without those a script ran inside."""
    client = redis.Redis.from_url(url)
    seen: list[str] = []
    started = threading.Event()

    def watch() -> None:
        with client.monitor() as feed:
            started.set()
            for command in feed.listen():
                if "STOP-MONITOR" in command["command"]:
                    return
                if command["client_type"] != "lua":
                    seen.append(command["command"])

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    assert started.wait(5)
    time.sleep(0.2)  # MONITOR has reached Redis
    try:
        yield seen
    finally:
        client.echo("STOP-MONITOR")
        watcher.join(5)
        client.close()


@pytest.mark.parametrize("caller", ["client", "person"])
def test_each_call_costs_one_redis_command_for_its_revocation_and_all_its_limits(settings, auth_context, live_services, caller):
    """Issue #21: "the per-call rate-limit round trip stays one". Every command that names the
    caller (its client, person, token or grant) is counted, read and write, as Redis received them."""
    if caller == "client":
        made = make_client(scope="posts:read posts:write")
        client = made.client.client_id
        token = sign(valid_claims(settings, scope="posts:read posts:write", client_id=client, sub=client))
        names = [client]
    else:
        client = make_app_client().client.client_id
        person = make_user()
        issued = make_person_tokens(settings, client, person, scope="posts:read posts:write")
        token, names = issued["access_token"], [client, str(person.id), issued["grant_id"]]
    assert rpc(settings.resource_url, token, "tools/call", {"name": READ, "arguments": {}}).status_code == 200  # limits now in Redis

    with monitored(settings.redis_url) as seen:
        for tool in (READ, WRITE, READ, WRITE, READ):
            answer = rpc(settings.resource_url, token, "tools/call", {"name": tool, "arguments": POST if tool == WRITE else {}})
            assert answer.status_code == 200, answer.text

    mine = [command for command in seen if any(f":{name}" in command for name in names)]
    assert [command.split()[0] for command in mine] == ["EVALSHA"] * 5, mine


# Exactly the limit, with four worker processes taking calls at once.


@pytest.fixture(scope="module")
def four_workers(live_services) -> Iterator[str]:
    """The MCP server with four gevent workers, as production runs it: 30 calls a minute per person,
    20 per caller of each tool that is not read-only."""
    port = live.free_port()
    env = {
        **live_services.env,
        "DRAWBRIDGE_MCP_WORKERS": "4",
        "DRAWBRIDGE_PERSON_RATE_LIMIT_PER_MINUTE": "30",
        "DRAWBRIDGE_MUTATION_RATE_LIMIT_PER_MINUTE": "20",
    }
    server = live.start("mcp_resource:create_app()", "deploy/gunicorn_mcp.py", port, env, ARTIFACTS / "mcp-4-workers-policies.log")
    yield f"{server.url}/mcp"
    server.stop()


def hammer(url: str, tokens: list[str], tool: str, calls: int) -> list[httpx.Response]:
    """`calls` calls of `tool` from 16 threads at once, taking the tokens in turn."""
    arguments = POST if tool == WRITE else {}
    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(lambda n: rpc(url, tokens[n % len(tokens)], "tools/call", {"name": tool, "arguments": arguments}), range(calls)))


def refused_by(answers: list[httpx.Response]) -> list[str]:
    return [a.json()["error"]["data"]["limitedBy"] for a in answers if a.status_code == 429]


def rate_limits_audited(client_ids: list[str]) -> list[str | None]:
    query = select(AuditRecord.rate_limit).where(AuditRecord.client_id.in_(client_ids), AuditRecord.outcome == "rate_limited")
    return list(db.session.scalars(query))


def test_a_persons_limit_holds_exactly_across_four_workers_and_two_of_their_clients(settings, auth_context, four_workers):
    """One atomic script per call: concurrency across worker processes cannot overshoot, and the
    person's bucket is the same whichever of their clients calls."""
    person = make_user()
    clients = [make_app_client().client.client_id for _ in range(2)]
    tokens = [make_person_tokens(settings, client, person)["access_token"] for client in clients]

    answers = hammer(four_workers, tokens, READ, 90)

    assert [a.status_code for a in answers].count(200) == 30
    assert refused_by(answers) == ["person"] * 60  # each client made 45 calls, under its own 120
    assert all(0 < int(a.headers["Retry-After"]) <= 60 for a in answers if a.status_code == 429)
    registered_again = make_app_client().client.client_id
    again = rpc(four_workers, make_person_tokens(settings, registered_again, person)["access_token"], "tools/call", {"name": READ, "arguments": {}})
    assert (again.status_code, refused_by([again])) == (429, ["person"])
    assert rate_limits_audited([*clients, registered_again]) == ["person"] * 61


def test_a_tools_limit_holds_exactly_across_four_workers(settings, auth_context, four_workers):
    client = make_client(scope="posts:read posts:write", rate_limit=1000).client.client_id
    token = sign(valid_claims(settings, scope="posts:read posts:write", client_id=client, sub=client))

    answers = hammer(four_workers, [token], WRITE, 60)

    assert [a.status_code for a in answers].count(200) == 20
    assert refused_by(answers) == ["tool"] * 40
    assert {a.json()["error"]["data"]["tool"] for a in answers if a.status_code == 429} == {WRITE}
    assert rpc(four_workers, token, "tools/call", {"name": READ, "arguments": {}}).status_code == 200  # the client's own 1000 has room
    assert rate_limits_audited([client]) == ["tool"] * 40


# The embedded default: SQLite, and in-process windows instead of Redis.


@pytest.fixture
def embedded(settings, live_services, tmp_path) -> Iterator[Flask]:
    """An in-process MCP server as `make run` starts it: SQLite, no Redis. It fetches its JWKS from
    the live authorization server, whose keys sign the tokens below."""
    own = replace(
        settings, database_url=f"sqlite:///{tmp_path / 'drawbridge.sqlite3'}", redis_url=None,
        person_rate_limit_per_minute=3, mutation_rate_limit_per_minute=2,
    )
    migrate(own)
    yield mcp_resource.create_app(own)


def test_the_embedded_default_holds_the_person_and_tool_limits_and_names_them(embedded, settings, auth_context):
    http = embedded.test_client()
    person, machine = new_id("person"), new_id("client")
    persons = [sign(person_claims(settings, person, new_id("client"))) for _ in range(4)]
    machines = [sign(valid_claims(settings, scope="posts:read posts:write", client_id=machine, sub=machine))] * 3

    by_person = [call(http, token, READ) for token in persons]
    by_tool = [call(http, token, WRITE) for token in machines]

    assert [a.status_code for a in by_person + by_tool] == [200, 200, 200, 429, 200, 200, 429]
    assert [a.json["error"]["data"]["limitedBy"] for a in (by_person[-1], by_tool[-1])] == ["person", "tool"]
    with embedded.app_context():
        rows = db.session.scalars(select(AuditRecord.rate_limit).where(AuditRecord.outcome == "rate_limited").order_by(AuditRecord.id))
        assert list(rows) == ["person", "tool"]


def test_a_tool_declares_its_own_tighter_limit(settings):
    """The demo's one destructive tool declares a limit tighter than the mutation default."""
    principal = Principal(client_id="c", subject="c", scopes=frozenset(), token_id="t", expires_at=0)

    charge = Charge.of(principal, CancelOrder())

    assert (charge.read_only, charge.declared) == (False, 10)
    assert Defaults.of(settings).for_tool(charge.read_only, charge.declared) == 10
