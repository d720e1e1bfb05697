"""completion/complete in both eras: prompt arguments and resource-template variables, a ref the
token may not see treated as unknown, and bad params as -32602."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mcp_resource.demo.models import Post
from shared.db import db
from tests.factories import sign, valid_claims
from tests.mcp_http import LEGACY, MODERN, Speaker

ERAS = [MODERN, LEGACY]


def speaker(app, settings, version: str, scope: str = "posts:read posts:write") -> Speaker:
    return Speaker(app.test_client(), sign(valid_claims(settings, scope=scope)), version)


def complete(who: Speaker, ref: dict, name: str, value: str, **extra):
    return who.send("completion/complete", {"ref": ref, "argument": {"name": name, "value": value}, **extra})


@pytest.mark.parametrize("version", ERAS)
def test_a_prompt_argument_is_completed(mcp_app, settings, auth_context, version):
    response = complete(speaker(mcp_app, settings, version), {"type": "ref/prompt", "name": "draft_post"}, "tone", "f")

    assert response.json["result"]["completion"] == {"values": ["friendly", "formal"], "total": 2, "hasMore": False}


@pytest.mark.parametrize("version", ERAS)
def test_a_template_variable_is_completed_from_the_rows(mcp_app, settings, auth_context, version):
    with mcp_app.app_context():
        ids = sorted(str(i) for i in db.session.scalars(select(Post.id)))

    response = complete(speaker(mcp_app, settings, version), {"type": "ref/resource", "uri": "drawbridge://posts/{id}"}, "id", "")

    assert response.json["result"]["completion"]["values"] == sorted(ids, key=int)[:100]


@pytest.mark.parametrize("version", ERAS)
@pytest.mark.parametrize(
    "ref",
    [{"type": "ref/prompt", "name": "restock_check"}, {"type": "ref/resource", "uri": "drawbridge://products/{id}"}],
    ids=["prompt", "template"],
)
def test_a_ref_the_token_may_not_see_is_unknown(mcp_app, settings, auth_context, version, ref):
    """MCP completion, security: control access to sensitive suggestions and prevent
    completion-based information disclosure: a ref outside the token's scopes is as unknown as one
    that does not exist (no step-up that would confirm it exists)."""
    hidden = complete(speaker(mcp_app, settings, version), ref, "id", "1")
    absent = complete(speaker(mcp_app, settings, version), {**ref, "name": "nothing", "uri": "nothing://{id}"}, "id", "1")

    assert hidden.status_code == absent.status_code == 200
    assert hidden.json["error"]["code"] == absent.json["error"]["code"] == -32602
    assert hidden.json["error"]["message"].split(":")[0] == absent.json["error"]["message"].split(":")[0]


@pytest.mark.parametrize("version", ERAS)
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"ref": {"type": "ref/tool", "name": "x"}, "argument": {"name": "a", "value": ""}}, '"ref" must be'),
        ({"ref": {"type": "ref/prompt"}, "argument": {"name": "a", "value": ""}}, '"ref" must be'),
        ({"ref": {"type": "ref/prompt", "name": "draft_post"}, "argument": {"name": "tone"}}, '"argument" must be'),
        ({"ref": {"type": "ref/prompt", "name": "draft_post"}, "argument": {"name": "mood", "value": ""}}, "has no argument mood"),
        ({"ref": {"type": "ref/prompt", "name": "draft_post"}, "argument": {"name": "tone", "value": ""}, "context": {"arguments": {"topic": 1}}}, '"context" must be'),
    ],
    ids=["unknown-ref-type", "no-name", "no-value", "unknown-argument", "context-not-text"],
)
def test_bad_params_are_invalid_params(mcp_app, settings, auth_context, version, params, message):
    response = speaker(mcp_app, settings, version).send("completion/complete", params)

    assert response.json["error"]["code"] == -32602
    assert message in response.json["error"]["message"]


def test_the_capability_is_declared(mcp_app, settings, auth_context):
    assert speaker(mcp_app, settings, MODERN).result("server/discover")["capabilities"]["completions"] == {}
    assert speaker(mcp_app, settings, LEGACY).initialized["capabilities"]["completions"] == {}
