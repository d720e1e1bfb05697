"""Prompts in both eras: listed per the token's scopes, arguments checked (-32602), text, image and
embedded-resource messages, and gets guarded like tool calls (step-up, audit)."""

from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import select

from mcp_resource.models import AuditRecord
from shared.db import db
from tests.factories import sign, valid_claims
from tests.mcp_http import LEGACY, MODERN, Speaker

ERAS = [MODERN, LEGACY]


def speaker(app, settings, version: str, scope: str = "posts:read products:read conformance:run") -> Speaker:
    return Speaker(app.test_client(), sign(valid_claims(settings, scope=scope)), version)


@pytest.mark.parametrize("version", ERAS)
def test_the_list_shows_only_prompts_the_tokens_scopes_allow(mcp_app, settings, auth_context, version):
    """MCP prompts: the set MAY vary by the authorization presented on the request."""
    posts_reader = speaker(mcp_app, settings, version, scope="posts:read")
    writer = speaker(mcp_app, settings, version, scope="posts:write")

    (summarize,) = posts_reader.result("prompts/list")["prompts"]
    assert summarize == {
        "name": "summarize_post",
        "title": "Summarize a blog post",
        "description": "Ask for a three-sentence summary of one blog post, with the post attached.",
        "arguments": [{"name": "post_id", "description": "The post's id, from drawbridge://posts.", "required": True}],
    }
    (draft,) = writer.result("prompts/list")["prompts"]
    assert [(a["name"], a["required"]) for a in draft["arguments"]] == [("topic", True), ("tone", False)]


def test_the_modern_list_carries_private_cache_hints(mcp_app, settings, auth_context):
    result = speaker(mcp_app, settings, MODERN).result("prompts/list")

    assert (result["cacheScope"], result["resultType"]) == ("private", "complete")
    assert result["ttlMs"] >= 0


@pytest.mark.parametrize("version", ERAS)
def test_arguments_fill_the_prompt(mcp_app, settings, auth_context, version):
    result = speaker(mcp_app, settings, version, scope="posts:write").result(
        "prompts/get", {"name": "draft_post", "arguments": {"topic": "castles", "tone": "playful"}}
    )

    (message,) = result["messages"]
    assert message["role"] == "user"
    assert "about castles in a playful tone" in message["content"]["text"]
    assert result["description"] == "Ask for a blog post draft on a topic, saved with the create_post tool."


@pytest.mark.parametrize("version", ERAS)
def test_a_prompt_embeds_the_resource_it_is_about(mcp_app, settings, auth_context, version):
    result = speaker(mcp_app, settings, version).result("prompts/get", {"name": "summarize_post", "arguments": {"post_id": "1"}})

    embedded, ask = result["messages"]
    resource = embedded["content"]["resource"]
    assert embedded["content"]["type"] == "resource"
    assert (resource["uri"], resource["mimeType"]) == ("drawbridge://posts/1", "application/json")
    assert json.loads(resource["text"])["id"] == 1
    assert ask["content"]["text"].startswith("Summarize the blog post above")


@pytest.mark.parametrize("version", ERAS)
def test_image_messages_carry_base64_data(mcp_app, settings, auth_context, version):
    image, _ = speaker(mcp_app, settings, version).result("prompts/get", {"name": "test_prompt_with_image"})["messages"]

    assert image["content"]["mimeType"] == "image/png"
    assert base64.b64decode(image["content"]["data"], validate=True).startswith(b"\x89PNG")


@pytest.mark.parametrize("version", ERAS)
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"name": "draft_post", "arguments": {}}, "topic: Missing data for required field."),
        ({"name": "draft_post", "arguments": {"topic": "x", "tone": "grumpy"}}, "tone: Must be one of"),
        ({"name": "draft_post", "arguments": {"topic": 3}}, "topic: Not a valid string."),
        ({"name": "draft_post", "arguments": {"topic": "x", "colour": "red"}}, "colour: Unknown field."),
        ({"name": "draft_post", "arguments": ["castles"]}, '"arguments" must be an object'),
        ({"name": "no_such_prompt"}, "Unknown prompt: no_such_prompt."),
        ({"name": "summarize_post", "arguments": {"post_id": "99999999"}}, "post_id: No post with id 99999999"),
    ],
    ids=["missing-required", "not-one-of", "not-text", "unknown-argument", "arguments-not-object", "unknown", "no-such-post"],
)
def test_bad_arguments_are_invalid_params_that_say_what_is_wrong(mcp_app, settings, auth_context, version, params, message):
    """MCP prompts, error handling: invalid prompt name and missing required arguments: -32602."""
    response = speaker(mcp_app, settings, version, scope="posts:read posts:write").send("prompts/get", params)

    assert response.status_code == 200
    assert response.json["error"]["code"] == -32602
    assert message in response.json["error"]["message"]


@pytest.mark.parametrize(("version", "status", "code"), [(LEGACY, 200, -32602), (MODERN, 400, -32020)])
def test_a_name_that_is_not_text_is_refused(mcp_app, settings, auth_context, version, status, code):
    """In 2026-07-28 the Mcp-Name header mirrors prompts/get's name, and no header can mirror 5."""
    response = speaker(mcp_app, settings, version).send("prompts/get", {"name": 5})

    assert (response.status_code, response.json["error"]["code"]) == (status, code)


@pytest.mark.parametrize("version", ERAS)
def test_a_prompt_outside_the_tokens_scopes_is_refused_with_a_step_up(mcp_app, settings, auth_context, version):
    response = speaker(mcp_app, settings, version, scope="posts:read").send("prompts/get", {"name": "draft_post", "arguments": {"topic": "x"}})

    assert response.status_code == 403
    assert 'scope="posts:write"' in response.headers["WWW-Authenticate"]


def test_gets_are_audited_with_their_arguments(mcp_app, settings, auth_context):
    writer = speaker(mcp_app, settings, MODERN, scope="posts:write")
    ok = writer.send("prompts/get", {"name": "draft_post", "arguments": {"topic": "moats"}})
    invalid = writer.send("prompts/get", {"name": "draft_post", "arguments": {}})

    with mcp_app.app_context():
        rows = {
            row.request_id: row
            for row in db.session.scalars(
                select(AuditRecord).where(AuditRecord.request_id.in_([ok.headers["X-Request-Id"], invalid.headers["X-Request-Id"]]))
            )
        }
    good, bad = rows[ok.headers["X-Request-Id"]], rows[invalid.headers["X-Request-Id"]]
    assert (good.tool, good.outcome, good.arguments) == ("prompts/get draft_post", "ok", {"topic": "moats"})
    assert (bad.tool, bad.outcome) == ("prompts/get draft_post", "invalid")
    assert "topic: Missing data for required field." in bad.error
