"""Prometheus metrics on both services: not public, and counting what happens."""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import replace

import pytest
import rq

import authserver
import mcp_resource
from mcp_resource.job_runners import RqRunner
from tests.browser_forms import csrf_token
from tests.factories import PASSWORD, make_client, make_user, sign, valid_claims
from tests.mcp_http import modern_body, modern_headers
from tests.prometheus import METRICS_TOKEN, sample


@pytest.mark.parametrize("factory", [authserver.create_app, mcp_resource.create_app], ids=["authserver", "mcp_resource"])
def test_metrics_are_not_public(settings, factory):
    closed = factory(settings).test_client()
    guarded = factory(replace(settings, metrics_token=METRICS_TOKEN)).test_client()

    assert closed.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).status_code == 404
    assert guarded.get("/metrics").status_code == 404
    assert guarded.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    assert guarded.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).status_code == 200


@pytest.mark.usefixtures("live_services")
def test_tool_calls_latency_and_errors_are_counted(settings, auth_context):
    http = mcp_resource.create_app(replace(settings, metrics_token=METRICS_TOKEN)).test_client()
    claims = valid_claims(settings, scope="posts:read")
    body = modern_body("tools/call", {"name": "list_posts", "arguments": {}})

    http.post("/mcp", data=json.dumps(body), headers=modern_headers(body, sign(claims)))
    http.post("/mcp", data=json.dumps(modern_body("nope")), headers=modern_headers(modern_body("nope"), sign(claims)))
    text = http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).get_data(as_text=True)

    assert sample(text, "drawbridge_tool_calls_total", tool="list_posts", client_id=claims["client_id"], outcome="ok") == 1.0
    assert sample(text, "drawbridge_tool_call_seconds_count", tool="list_posts") >= 1.0
    assert sample(text, "drawbridge_errors_total", service="mcp_resource", code="-32601") >= 1.0
    assert re.search(r"^drawbridge_open_sse_streams \d", text, re.M)


def scrape(http) -> str:
    return http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).get_data(as_text=True)


def test_token_requests_are_counted_by_grant_and_outcome(settings, commits, auth_context):
    """Counted by an app of its own, which must see the client this test makes."""
    http = authserver.create_app(replace(settings, metrics_token=METRICS_TOKEN)).test_client()
    client = make_client()
    series = {
        "issued": ("client_credentials", "issued"),
        "wrong secret": ("client_credentials", "invalid_client"),
        "unknown grant": ("other", "unsupported_grant_type"),
        "made-up grant": ("other", "unsupported_grant_type"),
    }
    before = {name: sample(scrape(http), "drawbridge_token_requests_total", grant=grant, outcome=outcome) for name, (grant, outcome) in series.items()}

    http.post("/token", data={"grant_type": "client_credentials", "client_id": client.client.client_id, "client_secret": client.client_secret})
    http.post("/token", data={"grant_type": "client_credentials", "client_id": client.client.client_id, "client_secret": "wrong"})
    http.post("/token", data={"grant_type": "password", "client_id": client.client.client_id, "client_secret": client.client_secret})
    text = scrape(http)

    assert sample(text, "drawbridge_token_requests_total", grant="client_credentials", outcome="issued") == before["issued"] + 1
    assert sample(text, "drawbridge_token_requests_total", grant="client_credentials", outcome="invalid_client") == before["wrong secret"] + 1
    assert sample(text, "drawbridge_token_requests_total", grant="other", outcome="unsupported_grant_type") == before["unknown grant"] + 1
    assert 'grant="password"' not in text  # a caller's grant_type makes no series of its own
    assert sample(text, "drawbridge_errors_total", service="authserver", code="invalid_client") >= 1.0


def test_a_token_request_answered_by_an_error_handler_is_counted_too(settings, commits, auth_context):
    """A database that does not answer: the token endpoint's 503 comes from the app's error handler,
    after the view, and is counted as temporarily_unavailable."""
    broken = replace(settings, metrics_token=METRICS_TOKEN, database_url="postgresql://nobody@127.0.0.1:1/none", database_timeout_seconds=2)
    http = authserver.create_app(broken).test_client()
    before = sample(scrape(http), "drawbridge_token_requests_total", grant="client_credentials", outcome="temporarily_unavailable")

    answer = http.post("/token", data={"grant_type": "client_credentials", "client_id": "someone", "client_secret": "s"})

    assert answer.status_code == 503
    after = sample(scrape(http), "drawbridge_token_requests_total", grant="client_credentials", outcome="temporarily_unavailable")
    assert after == before + 1


def test_logins_are_counted_by_outcome(settings, commits, auth_context):
    http = authserver.create_app(replace(settings, metrics_token=METRICS_TOKEN)).test_client()
    person = make_user()
    before = {outcome: sample(scrape(http), "drawbridge_logins_total", outcome=outcome) for outcome in ("succeeded", "failed", "incomplete")}

    address = {"REMOTE_ADDR": f"2001:db8::{secrets.token_hex(2)}"}  # no other test's failures slow it

    def log_in(password: str) -> int:
        form = {"csrf_token": csrf_token(http.get("/login").get_data(as_text=True)), "email": person.email, "password": password}
        return http.post("/login", data=form, environ_base=address).status_code

    statuses = [log_in("wrong"), log_in(""), log_in(PASSWORD)]
    text = scrape(http)

    assert statuses == [401, 400, 302]
    assert {outcome: sample(text, "drawbridge_logins_total", outcome=outcome) - before[outcome] for outcome in before} == {
        "succeeded": 1, "failed": 1, "incomplete": 1
    }


def test_registrations_are_counted_by_outcome(settings, commits, auth_context):
    http = authserver.create_app(replace(settings, metrics_token=METRICS_TOKEN, registrations_per_ip_per_hour=2)).test_client()
    metadata = {
        "client_name": "counted", "redirect_uris": ["http://127.0.0.1:9/cb"], "grant_types": ["authorization_code"],
        "response_types": ["code"], "token_endpoint_auth_method": "none",
    }
    before = {outcome: sample(scrape(http), "drawbridge_registrations_total", outcome=outcome) for outcome in ("registered", "invalid_redirect_uri", "rate_limited")}

    address = {"REMOTE_ADDR": f"2001:db8::{secrets.token_hex(2)}"}  # its own hourly allowance
    statuses = [
        http.post("/register", json=metadata, environ_base=address).status_code,
        http.post("/register", json={**metadata, "redirect_uris": ["http://example.com/cb"]}, environ_base=address).status_code,
        http.post("/register", json=metadata, environ_base=address).status_code,
    ]
    text = scrape(http)

    assert statuses == [201, 400, 429]
    assert {outcome: sample(text, "drawbridge_registrations_total", outcome=outcome) - before[outcome] for outcome in before} == {
        "registered": 1, "invalid_redirect_uri": 1, "rate_limited": 1
    }


def test_backing_services_and_the_job_queue_are_read_when_scraped(settings, redis_client):
    """The MCP server with Redis: whether it reaches the database and Redis, and its job queue."""
    text = scrape(mcp_resource.create_app(replace(settings, metrics_token=METRICS_TOKEN)).test_client())

    assert sample(text, "drawbridge_backing_service_up", backend="database") == 1.0
    assert sample(text, "drawbridge_backing_service_up", backend="redis") == 1.0
    assert re.search(r"^drawbridge_job_queue_length \d", text, re.M)
    assert re.search(r"^drawbridge_job_queue_oldest_seconds \d", text, re.M)


def test_the_job_queue_gauges_read_its_length_and_its_oldest_job(settings, redis_client):
    """On a queue of its own, which no `drawbridge worker` of the session takes jobs from."""
    runner = RqRunner(mcp_resource.create_app(settings), redis_client)
    runner.queue = rq.Queue("drawbridge-test-untaken", connection=redis_client)
    assert (runner.queued(), runner.oldest_queued_seconds()) == ({(): 0.0}, {(): 0.0})

    runner.queue.enqueue("mcp_resource.job_worker.execute", "first", job_id="queued-first")
    time.sleep(1.1)
    runner.queue.enqueue("mcp_resource.job_worker.execute", "second", job_id="queued-second")

    assert runner.queued() == {(): 2.0}
    assert 1.0 <= runner.oldest_queued_seconds()[()] < 5.0
