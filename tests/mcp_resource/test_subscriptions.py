"""Resource subscriptions in process: the methods each era has, precise refusals of what names no
resource, and subscriptions guarded like reads (audited, rate-limited). Delivery across workers is
tested against live servers in tests/e2e/test_resource_subscriptions.py."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

import mcp_resource
from mcp_resource.models import AuditRecord
from shared.db import db
from tests.factories import sign, valid_claims
from tests.mcp_http import LEGACY, MODERN, Speaker


@pytest.fixture
def app(settings, live_services):
    """An in-process MCP server whose client limit is 3 calls a minute."""
    return mcp_resource.create_app(replace(settings, rate_limit_per_minute=3))


def speaker(app, settings, version: str) -> Speaker:
    return Speaker(app.test_client(), sign(valid_claims(settings, scope="posts:read conformance:run")), version)


def listen(speaker: Speaker, uris):
    return speaker.send("subscriptions/listen", {"notifications": {"resourceSubscriptions": uris}})


def records(app, request_id: str) -> list[AuditRecord]:
    with app.app_context():
        return list(db.session.scalars(select(AuditRecord).where(AuditRecord.request_id == request_id)))


def test_2026_has_no_resources_subscribe_or_unsubscribe(mcp_app, settings, auth_context):
    """2026-07-28 subscriptions: subscriptions/listen "replaces the former resources/subscribe RPC";
    an unknown method is HTTP 404 with -32601 in this era."""
    modern = speaker(mcp_app, settings, MODERN)
    for method in ("resources/subscribe", "resources/unsubscribe"):
        answer = modern.send(method, {"uri": "test://watched-resource"})
        assert (answer.status_code, answer.json["error"]["code"]) == (404, -32601)


def test_a_uri_that_names_no_resource_is_resource_not_found_in_each_eras_code(mcp_app, settings, auth_context):
    legacy = speaker(mcp_app, settings, LEGACY).send("resources/subscribe", {"uri": "test://nothing"}).json["error"]
    modern = listen(speaker(mcp_app, settings, MODERN), ["test://watched-resource", "test://nothing"]).json["error"]

    assert (legacy["code"], legacy["message"], legacy["data"]) == (-32002, "Resource not found", {"uri": "test://nothing"})
    assert (modern["code"], modern["message"], modern["data"]) == (-32602, "Resource not found", {"uri": "test://nothing"})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"resourceSubscriptions": "test://watched-resource"}, 'Invalid params: "resourceSubscriptions" must be an array of resource URIs.'),
        ({"resourceSubscriptions": [7]}, 'Invalid params: "resourceSubscriptions" must be an array of resource URIs.'),
        ({"resourceSubscriptions": [f"drawbridge://posts/{n}" for n in range(1, 102)]}, "Invalid params: one subscriptions/listen may ask updates of 100 resources at most."),
    ],
    ids=["not-an-array", "not-text", "too-many"],
)
def test_a_malformed_resource_subscriptions_filter_is_invalid_params(mcp_app, settings, auth_context, params, message):
    answer = speaker(mcp_app, settings, MODERN).send("subscriptions/listen", {"notifications": params})

    assert (answer.status_code, answer.json["error"]["code"], answer.json["error"]["message"]) == (200, -32602, message)


def test_unsubscribe_needs_a_uri(mcp_app, settings, auth_context):
    answer = speaker(mcp_app, settings, LEGACY).send("resources/unsubscribe", {})

    assert answer.json["error"]["code"] == -32602


def test_subscriptions_are_audited_and_rate_limited_like_reads(app, settings, auth_context):
    """Each URI subscribed to is a guarded call: one audit row under `resources/subscribe <key>`,
    counted against the caller's limit (3 a minute here) with the reads."""
    token = sign(valid_claims(settings, scope="posts:read conformance:run"))
    subscribed = Speaker(app.test_client(), token, LEGACY).send("resources/subscribe", {"uri": "drawbridge://posts/1"})
    listened = Speaker(app.test_client(), token, MODERN)
    refused = listen(listened, ["test://watched-resource", "drawbridge://posts/2", "drawbridge://posts/3"])

    assert subscribed.json["result"] == {}
    (row,) = records(app, subscribed.headers["X-Request-Id"])
    assert (row.tool, row.arguments, row.outcome) == ("resources/subscribe drawbridge://posts/{id}", {"uri": "drawbridge://posts/1"}, "ok")
    assert refused.status_code == 429
    rows = records(app, refused.headers["X-Request-Id"])
    assert [(r.tool, r.outcome) for r in rows] == [("resources/subscribe drawbridge://posts/{id}", "rate_limited")]
