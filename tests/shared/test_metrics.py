"""Prometheus metrics on both services: not public, and counting what happens."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

import authserver
import mcp_resource
from tests.factories import make_client, sign, valid_claims
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


def test_tokens_issued_are_counted_per_grant(settings, commits, auth_context):
    """Counted by an app of its own, which must see the client this test makes."""
    http = authserver.create_app(replace(settings, metrics_token=METRICS_TOKEN)).test_client()
    client = make_client()
    before = sample(http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).get_data(as_text=True), "drawbridge_tokens_issued_total", grant="client_credentials")

    http.post("/token", data={"grant_type": "client_credentials", "client_id": client.client.client_id, "client_secret": client.client_secret})
    http.post("/token", data={"grant_type": "client_credentials", "client_id": client.client.client_id, "client_secret": "wrong"})
    text = http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).get_data(as_text=True)

    assert sample(text, "drawbridge_tokens_issued_total", grant="client_credentials") == before + 1
    assert sample(text, "drawbridge_errors_total", service="authserver", code="invalid_client") >= 1.0
