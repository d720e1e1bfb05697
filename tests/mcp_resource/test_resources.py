"""Resources in both eras: lists filtered by the token's scopes, static and templated reads, text
and binary, "Resource not found" in each era's code, and reads guarded like tool calls (step-up,
rate limit, audit)."""

from __future__ import annotations

import base64
import json
from dataclasses import replace

import pytest
from sqlalchemy import select

import mcp_resource
from mcp_resource.demo.models import Post
from mcp_resource.models import AuditRecord
from shared.db import db
from tests.factories import sign, valid_claims
from tests.mcp_http import LEGACY, MODERN, Speaker

ERAS = [MODERN, LEGACY]


@pytest.fixture
def app(settings, live_services):
    """An in-process MCP server whose client limit is 3 calls a minute."""
    return mcp_resource.create_app(replace(settings, rate_limit_per_minute=3))


def speaker(app, settings, version: str, scope: str = "posts:read products:read conformance:run") -> Speaker:
    return Speaker(app.test_client(), sign(valid_claims(settings, scope=scope)), version)


def records(app, request_id: str) -> list[AuditRecord]:
    with app.app_context():
        return list(db.session.scalars(select(AuditRecord).where(AuditRecord.request_id == request_id)))


@pytest.mark.parametrize("version", ERAS)
def test_lists_show_only_what_the_tokens_scopes_let_it_read(mcp_app, settings, auth_context, version):
    """MCP resources: the set MAY vary by the authorization presented on the request."""
    posts_only = speaker(mcp_app, settings, version, scope="posts:read")
    everything = speaker(mcp_app, settings, version)

    assert [r["uri"] for r in posts_only.result("resources/list")["resources"]] == ["drawbridge://posts"]
    assert [t["uriTemplate"] for t in posts_only.result("resources/templates/list")["resourceTemplates"]] == ["drawbridge://posts/{id}"]
    listed = everything.result("resources/list")["resources"]
    assert [r["uri"] for r in listed] == ["drawbridge://posts", "drawbridge://products", "test://static-binary", "test://static-text", "test://watched-resource"]
    assert listed[0] == {
        "uri": "drawbridge://posts",
        "name": "posts",
        "title": "Blog posts",
        "description": "Every blog post, newest first, drafts included: id, title, status and publication date.",
        "mimeType": "application/json",
    }
    templates = everything.result("resources/templates/list")["resourceTemplates"]
    assert [t["uriTemplate"] for t in templates] == ["drawbridge://posts/{id}", "drawbridge://products/{id}", "test://template/{id}/data"]


def test_modern_lists_and_reads_carry_private_cache_hints(mcp_app, settings, auth_context):
    """2026-07-28 caching: resources/list, resources/templates/list and resources/read carry ttlMs
    and cacheScope; a result that depends on the token is "private"."""
    modern = speaker(mcp_app, settings, MODERN)

    for method, params in (("resources/list", {}), ("resources/templates/list", {}), ("resources/read", {"uri": "drawbridge://posts"})):
        result = modern.result(method, params)
        assert result["cacheScope"] == "private" and result["ttlMs"] >= 0, method
        assert result["resultType"] == "complete"


@pytest.mark.parametrize("version", ERAS)
def test_a_template_reads_the_row_its_uri_names(mcp_app, settings, auth_context, version):
    with mcp_app.app_context():
        post = db.session.scalars(select(Post).order_by(Post.id)).first()
        fields = set(post.detail())

    (contents,) = speaker(mcp_app, settings, version).result("resources/read", {"uri": f"drawbridge://posts/{post.id}"})["contents"]

    assert contents["uri"] == f"drawbridge://posts/{post.id}"
    assert contents["mimeType"] == "application/json"
    document = json.loads(contents["text"])
    assert document["id"] == post.id and document["title"] == post.title and document["body"] == post.body
    assert set(document) == fields


@pytest.mark.parametrize("version", ERAS)
def test_text_and_binary_contents(mcp_app, settings, auth_context, version):
    """MCP resources: binary data MUST be properly encoded (base64 `blob`)."""
    reader = speaker(mcp_app, settings, version)

    (text,) = reader.result("resources/read", {"uri": "test://static-text"})["contents"]
    (binary,) = reader.result("resources/read", {"uri": "test://static-binary"})["contents"]
    (templated,) = reader.result("resources/read", {"uri": "test://template/a%20b/data"})["contents"]

    assert text == {"uri": "test://static-text", "mimeType": "text/plain", "text": "This is the content of the static text resource."}
    assert binary["mimeType"] == "image/png" and "text" not in binary
    assert base64.b64decode(binary["blob"], validate=True).startswith(b"\x89PNG")
    assert json.loads(templated["text"])["id"] == "a b"  # the value percent-decoded (RFC 6570 level 1)


@pytest.mark.parametrize(("version", "code"), [(MODERN, -32602), (LEGACY, -32002)])
@pytest.mark.parametrize(
    "uri",
    ["test://nonexistent-resource", "drawbridge://posts/99999999", "drawbridge://posts/0", "drawbridge://posts/x", "drawbridge://posts/1/more"],
    ids=["no-resource", "no-row", "zero", "not-a-number", "extra-segment"],
)
def test_a_uri_that_names_nothing_is_resource_not_found_with_the_uri(mcp_app, settings, auth_context, version, code, uri):
    """MCP 2026-07-28 resources, error handling: a resource that does not exist MUST be -32602, with
    the uri in data (SEP-2164), never an empty contents array; 2025-11-25 used -32002."""
    response = speaker(mcp_app, settings, version).send("resources/read", {"uri": uri})

    error = response.json["error"]
    assert (error["code"], error["data"]) == (code, {"uri": uri})
    assert error["message"].startswith("Resource not found")


@pytest.mark.parametrize(
    ("version", "params"), [(LEGACY, {}), (LEGACY, {"uri": 7}), (LEGACY, {"uri": ""}), (MODERN, {}), (MODERN, {"uri": ""})]
)
def test_a_read_without_a_uri_is_invalid_params(mcp_app, settings, auth_context, version, params):
    response = speaker(mcp_app, settings, version).send("resources/read", params)

    assert response.json["error"]["code"] == -32602
    assert '"uri" must be a URI' in response.json["error"]["message"]


def test_a_modern_read_of_a_uri_no_header_can_mirror_is_a_header_mismatch(mcp_app, settings, auth_context):
    """MCP 2026-07-28 transport: Mcp-Name mirrors resources/read's uri; a mismatch is 400, -32020."""
    response = speaker(mcp_app, settings, MODERN).send("resources/read", {"uri": 7})

    assert (response.status_code, response.json["error"]["code"]) == (400, -32020)


@pytest.mark.parametrize("version", ERAS)
def test_a_resource_outside_the_tokens_scopes_is_refused_with_a_step_up(mcp_app, settings, auth_context, version):
    """MCP authorization: a runtime scope shortfall gets 403 insufficient_scope naming the scope."""
    response = speaker(mcp_app, settings, version, scope="posts:read").send("resources/read", {"uri": "drawbridge://products/1"})

    assert response.status_code == 403
    challenge = response.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge and 'scope="products:read"' in challenge


def test_reads_are_audited_under_their_template_with_the_uri(app, settings, auth_context):
    reader = speaker(app, settings, MODERN)
    read = reader.send("resources/read", {"uri": "drawbridge://posts/1"})
    missing = reader.send("resources/read", {"uri": "test://nothing"})
    refused = speaker(app, settings, MODERN, scope="posts:read").send("resources/read", {"uri": "drawbridge://products"})

    (ok,) = records(app, read.headers["X-Request-Id"])
    assert (ok.tool, ok.outcome, ok.arguments, ok.error) == ("resources/read drawbridge://posts/{id}", "ok", {"uri": "drawbridge://posts/1"}, None)
    (unknown,) = records(app, missing.headers["X-Request-Id"])
    assert (unknown.tool, unknown.outcome, unknown.error) == ("resources/read test://nothing", "invalid", "Resource not found")
    (step_up,) = records(app, refused.headers["X-Request-Id"])
    assert (step_up.tool, step_up.outcome) == ("resources/read drawbridge://products", "refused")


def test_a_row_that_does_not_exist_is_audited_with_the_reason(app, settings, auth_context):
    legacy = speaker(app, settings, LEGACY)
    response = legacy.send("resources/read", {"uri": "drawbridge://posts/99999999"})

    assert response.json["error"]["message"] == "Resource not found: No post with id 99999999; read drawbridge://posts for the ids."
    (row,) = records(app, response.headers["X-Request-Id"])
    assert (row.tool, row.outcome, row.session_id) == ("resources/read drawbridge://posts/{id}", "invalid", legacy.session)


def test_reads_count_against_the_clients_rate_limit(app, settings, auth_context):
    """MCP tools (and resources): servers MUST rate-limit; a read counts like a tool call."""
    reader = speaker(app, settings, MODERN)
    answers = [reader.send("resources/read", {"uri": "test://static-text"}) for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].json["error"]["data"]["limitedBy"] == "client"
    (row,) = records(app, answers[-1].headers["X-Request-Id"])
    assert (row.tool, row.outcome, row.rate_limit) == ("resources/read test://static-text", "rate_limited", "client")


def test_the_capability_is_declared_in_both_eras(mcp_app, settings, auth_context):
    discovered = speaker(mcp_app, settings, MODERN).result("server/discover")["capabilities"]
    initialized = speaker(mcp_app, settings, LEGACY).initialized["capabilities"]

    for capabilities in (discovered, initialized):
        assert capabilities["resources"] == {"subscribe": True}  # no listChanged: the list never changes
