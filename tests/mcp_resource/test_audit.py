"""The audit trail: every tools/call outcome has its row, committed before the answer."""

from __future__ import annotations

import http.client
import json
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import httpx
import psycopg
import pytest
from marshmallow import Schema, fields
from sqlalchemy import select, text

import mcp_resource
from mcp_resource.guardrails import audit
from mcp_resource.models import AuditRecord
from mcp_resource.services import services
from mcp_resource.tools.base import Tool
from shared.cli import cli, create_cli_app
from shared.db import db
from tests import live
from tests.conftest import ARTIFACTS
from tests.factories import fetch_token, make_client, sign, valid_claims
from tests.mcp_http import modern_body, modern_headers
from tests.mcp_resource.test_auth import revoked_token


@pytest.fixture
def app(settings, live_services):
    """An in-process MCP server; it fetches its JWKS from the live authorization server."""
    return mcp_resource.create_app(replace(settings, rate_limit_per_minute=2))


def call(http, token: str, name: str, arguments: dict):
    body = modern_body("tools/call", {"name": name, "arguments": arguments})
    return http.post("/mcp", data=json.dumps(body), headers=modern_headers(body, token))


def records(app, request_id: str) -> list[AuditRecord]:
    with app.app_context():
        return list(db.session.scalars(select(AuditRecord).where(AuditRecord.request_id == request_id)))


@pytest.mark.parametrize(
    ("name", "arguments", "scope", "status", "outcome"),
    [
        ("get_post", {"post_id": 1}, "posts:read", 200, "ok"),
        ("get_post", {"post_id": 99999999}, "posts:read", 200, "tool_error"),
        ("get_post", {"post_id": "x"}, "posts:read", 200, "tool_error"),
        ("create_post", {"title": "t", "body": "b"}, "posts:read", 403, "refused"),
        ("no_such_tool", {}, "posts:read", 200, "invalid"),
        ("nul\u0000tool", {"x": "\u0000"}, "posts:read", 200, "invalid"),
    ],
    ids=["ok", "not-found", "invalid-arguments", "missing-scope", "unknown-tool", "nul-in-name"],
)
def test_every_outcome_is_recorded_with_who_what_and_how_long(app, settings, auth_context, name, arguments, scope, status, outcome):
    claims = valid_claims(settings, scope=scope)
    response = call(app.test_client(), sign(claims), name, arguments)

    assert response.status_code == status
    (row,) = records(app, response.headers["X-Request-Id"])
    assert (row.client_id, row.subject, row.tool, row.outcome) == (claims["client_id"], claims["sub"], name.replace("\x00", "\ufffd"), outcome)
    assert row.duration_ms >= 0
    assert row.ip == "127.0.0.1"
    assert (row.error is None) == (outcome == "ok")


def test_a_rate_limited_call_is_recorded(app, settings, auth_context):
    token = sign(valid_claims(settings, scope="posts:read"))
    http = app.test_client()
    answers = [call(http, token, "list_posts", {}) for _ in range(3)]

    assert answers[-1].status_code == 429
    (row,) = records(app, answers[-1].headers["X-Request-Id"])
    assert (row.outcome, row.rate_limit) == ("rate_limited", "client")
    assert records(app, answers[0].headers["X-Request-Id"])[0].rate_limit is None


@pytest.mark.parametrize("name", ["list_posts", "create_post", "no_such_tool"], ids=["in-scope", "outside-scopes", "unknown-tool"])
def test_a_revoked_tokens_call_is_recorded(app, settings, auth_context, redis_client, name):
    """README, "Audit": every tools/call that is refused or fails has its row. A revoked token's call
    is refused with 401 (RFC 6750 section 3.1, invalid_token) whatever else is wrong with it, and
    recorded as such, its argument values not kept."""
    response = call(app.test_client(), revoked_token(settings, redis_client), name, {"title": "secret"})

    assert response.status_code == 401
    (row,) = records(app, response.headers["X-Request-Id"])
    assert (row.tool, row.outcome, row.error) == (name, "revoked", "The access token was revoked.")
    assert row.arguments is None and row.arguments_bytes > 0


def test_the_writer_reconnects_when_the_database_drops_its_connection(app, settings, auth_context):
    token = sign(valid_claims(settings, scope="posts:read"))
    http = app.test_client()
    assert call(http, token, "list_posts", {}).status_code == 200
    with app.app_context():  # what a database restart or failover does to every open connection
        db.session.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        )
        db.session.commit()

    after = call(http, token, "list_posts", {})

    assert after.status_code == 200
    assert [row.outcome for row in records(app, after.headers["X-Request-Id"])] == ["ok"]


def test_stopping_the_services_closes_the_writers_connection_and_the_next_call_opens_one(settings, live_services, auth_context):
    """A worker's exit (and a test's end) stops its app's services: the watchers stop polling and
    the audit writer lets go of the connection it keeps. A call after that is answered and audited."""
    name = f"audit-{uuid.uuid4().hex[:12]}"
    separator = "&" if "?" in settings.database_url else "?"
    app = mcp_resource.create_app(replace(settings, database_url=f"{settings.database_url}{separator}application_name={name}"))
    token = sign(valid_claims(settings, scope="posts:read"))
    assert call(app.test_client(), token, "list_posts", {}).status_code == 200
    assert connections_named(app, name) > 0

    services(app).stop()
    with app.app_context():
        db.engine.dispose()  # the requests' pool: what the teardown after each test closes as well
    deadline = time.monotonic() + 5  # a watcher mid-poll ends at its next pause
    while connections_named(app, name) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert connections_named(app, name) == 0

    after = call(app.test_client(), token, "list_posts", {})
    assert after.status_code == 200
    assert [row.outcome for row in records(app, after.headers["X-Request-Id"])] == ["ok"]


def connections_named(app, name: str) -> int:
    """PostgreSQL's open connections with this application_name, counted on a connection of its own."""
    with psycopg.connect(app.config["SETTINGS"].database_url.split("?")[0]) as connection:
        return connection.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (name,)).fetchone()[0]


class SecretInput(Schema):
    account = fields.String()
    password = fields.String(metadata={"sensitive": True})


class Login(Tool):
    name = "login"
    description = "Log in."
    scope = "posts:read"
    Input = SecretInput


def test_fields_a_tool_marks_sensitive_are_redacted():
    assert audit.redact(Login(), {"account": "ada", "password": "hunter2"}) == {"account": "ada", "password": "[redacted]"}
    assert audit.redact(None, {"password": "hunter2"}) is None  # an unknown tool's arguments are not kept


def test_the_daily_summary_has_calls_average_p95_and_errors(settings, fresh_auth_app):
    caller = audit.Caller("c", "s", "r")
    for duration in range(1, 21):
        audit.record(caller, "get_post", None, {}, "ok", float(duration))
    audit.record(caller, "get_post", None, {}, "tool_error", 100.0)
    runner = create_cli_app(fresh_auth_app.config["SETTINGS"]).test_cli_runner()

    (row,) = audit.summary(datetime.now(timezone.utc).date())
    printed = runner.invoke(cli, ["audit", "summary", "--day", datetime.now(timezone.utc).date().isoformat()]).output

    assert row == {"tool": "get_post", "calls": 21, "average_ms": 14.76, "p95_ms": 20.0, "errors": 1}
    assert "get_post" in printed and "21" in printed


def test_old_records_are_pruned(fresh_auth_app):
    caller = audit.Caller("c", "s", "r")
    audit.record(caller, "old", None, {}, "ok", 1.0)
    audit.record(caller, "new", None, {}, "ok", 1.0)
    db.session.execute(db.update(AuditRecord).where(AuditRecord.tool == "old").values(at=datetime.now(timezone.utc) - timedelta(days=91)))
    db.session.commit()

    assert audit.prune(90) == 1
    assert [r.tool for r in db.session.scalars(select(AuditRecord))] == ["new"]


@pytest.fixture
def crash_target(live_services) -> Iterator[live.LiveServer]:
    port = live.free_port()
    env = {**live_services.env, "DRAWBRIDGE_MCP_WORKERS": "2"}
    server = live.start("mcp_resource:create_app()", "deploy/gunicorn_mcp.py", port, env, ARTIFACTS / "mcp-crash.log")
    yield server
    if server.process.poll() is None:
        server.stop()


ACKNOWLEDGED_BEFORE_CRASH = 50
LOAD_SECONDS = 30


def test_every_acknowledged_call_survives_a_kill_9_with_its_record(settings, auth_context, crash_target, auth_app):
    """Under load, kill -9 the workers: every call whose answer arrived has its audit record."""
    token = fetch_token(settings, make_client(scope="posts:read", rate_limit=1_000_000))
    url = f"{crash_target.url}/mcp"
    acknowledged: list[str] = []
    stop = threading.Event()

    def hammer() -> None:
        with httpx.Client(timeout=5) as client:
            while not stop.is_set():
                body = modern_body("tools/call", {"name": "list_posts", "arguments": {}})
                try:
                    answer = client.post(url, json=body, headers=modern_headers(body, token))
                except httpx.HTTPError:
                    continue
                if answer.status_code == 200:
                    acknowledged.append(answer.headers["X-Request-Id"])

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + LOAD_SECONDS
    while len(acknowledged) <= ACKNOWLEDGED_BEFORE_CRASH and time.monotonic() < deadline:  # a loaded machine answers slower
        time.sleep(0.1)
    crash_target.crash()
    time.sleep(0.3)
    stop.set()
    for thread in threads:
        thread.join()

    with auth_app.app_context():
        recorded = set(db.session.scalars(select(AuditRecord.request_id).where(AuditRecord.request_id.in_(acknowledged))))
    assert len(acknowledged) > ACKNOWLEDGED_BEFORE_CRASH
    assert recorded == set(acknowledged)


BURST = 64  # concurrent first calls, more than the pool's 10 + 19 connections (30, less the writer's)


@pytest.fixture
def fresh_server(live_services) -> Iterator[live.LiveServer]:
    """One gevent worker that has served nothing yet: no pooled connection, no writer connection."""
    port = live.free_port()
    server = live.start("mcp_resource:create_app()", "deploy/gunicorn_mcp.py", port, live_services.env, ARTIFACTS / "mcp-burst.log")
    yield server
    server.stop()


def test_a_first_burst_larger_than_the_connection_pool_is_answered_and_audited(settings, auth_context, fresh_server, auth_app):
    """More concurrent calls than the pool's 29 connections; the writer's own connection lets
    their rows commit, where a pooled one would wait behind them for good."""
    token = fetch_token(settings, make_client(scope="posts:read", rate_limit=1_000_000))
    body = modern_body("tools/call", {"name": "list_posts", "arguments": {}})
    connections = [http.client.HTTPConnection("127.0.0.1", httpx.URL(fresh_server.url).port, timeout=20) for _ in range(BURST)]
    for connection in connections:
        connection.connect()  # connected first, so the requests arrive together, as wrk sends them
    barrier = threading.Barrier(len(connections))

    def one_call(connection: http.client.HTTPConnection) -> tuple[int, str]:
        barrier.wait()
        connection.request("POST", "/mcp", json.dumps(body), modern_headers(body, token))
        answer = connection.getresponse()
        answer.read()
        return answer.status, answer.headers["X-Request-Id"]

    with ThreadPoolExecutor(max_workers=len(connections)) as pool:
        answers = list(pool.map(one_call, connections))
    for connection in connections:
        connection.close()

    assert [status for status, _ in answers] == [200] * BURST
    request_ids = [request_id for _, request_id in answers]
    with auth_app.app_context():
        recorded = db.session.scalars(select(AuditRecord.request_id).where(AuditRecord.request_id.in_(request_ids)))
        assert sorted(recorded) == sorted(request_ids)
