"""`drawbridge grants list|revoke`: what people allowed clients, and taking one grant back.

That a revoked grant's access token is then refused at the MCP server within 2 s is tested end to
end, on the live services, in tests/security/test_taking_access_back.py.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from authserver import keys
from authserver.client_specs import PUBLIC_APP
from authserver.models import Consent, Grant
from authserver.oauth import refresh_tokens
from authserver.oauth.redirect_uris import fingerprint
from shared.cli import create_cli_app
from shared.db import db
from tests import live
from tests.authserver.commands import run
from tests.authserver.test_revocation_endpoint import voided
from tests.factories import make_client, make_person_tokens, make_user

REDIRECT_URI = "http://127.0.0.1:8765/callback"


@pytest.fixture
def app(fresh_auth_app: Flask) -> Flask:
    keys.ensure()
    return fresh_auth_app


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return create_cli_app(app.config["SETTINGS"]).test_cli_runner()



def app_client():
    return make_client(scope="posts:read posts:write", kind=PUBLIC_APP, redirect_uris=(REDIRECT_URI,))


def test_grants_list_shows_whose_grant_to_which_client(runner, app):
    settings = app.config["SETTINGS"]
    ada, bob = make_user(), make_user()
    desktop, other = app_client(), app_client()
    ada_desktop = make_person_tokens(settings, desktop.client.client_id, ada, scope="posts:read")
    bob_desktop = make_person_tokens(settings, desktop.client.client_id, bob)
    ada_other = make_person_tokens(settings, other.client.client_id, ada)

    by_ada = json.loads(run(runner, "grants", "list", "--user", ada.email.upper(), "--json").stdout)
    to_desktop = json.loads(run(runner, "grants", "list", "--client", desktop.client.client_id, "--json").stdout)
    both = json.loads(run(runner, "grants", "list", "--user", ada.email, "--client", desktop.client.client_id, "--json").stdout)
    table = run(runner, "grants", "list").stdout

    assert {g["grant_id"] for g in by_ada} == {ada_desktop["grant_id"], ada_other["grant_id"]}
    assert {g["grant_id"] for g in to_desktop} == {ada_desktop["grant_id"], bob_desktop["grant_id"]}
    assert [(g["grant_id"], g["user_email"], g["client_name"], g["scope"]) for g in both] == [
        (ada_desktop["grant_id"], ada.email, desktop.client.client_name, "posts:read")
    ]
    assert table.splitlines()[0].split() == ["GRANT", "ID", "CLIENT", "ID", "CLIENT", "PERSON", "SCOPES", "GRANTED", "LAST", "USED"]
    assert len(table.splitlines()) == 4
    assert ada_desktop["refresh_token"] not in table + json.dumps(by_ada)


def test_grants_list_leaves_revoked_grants_out_unless_asked(runner, app):
    client = app_client()
    tokens = make_person_tokens(app.config["SETTINGS"], client.client.client_id)
    refresh_tokens.revoke_grant(db.session.get(Grant, tokens["grant_id"]), reason="test")

    assert run(runner, "grants", "list").stdout == "No grants.\n"
    listed = json.loads(run(runner, "grants", "list", "--all", "--json").stdout)
    assert [g["grant_id"] for g in listed] == [tokens["grant_id"]]
    assert listed[0]["revoked_at"] is not None
    assert "REVOKED" in run(runner, "grants", "list", "--all").stdout


def test_revoking_a_grant_ends_its_tokens_and_forgets_the_consent(runner, app):
    """RFC 7009 section 2.1: revoking a grant's refresh token "SHOULD also invalidate all access
    tokens based on the same authorization grant"; an operator's revocation does both. The consent
    is forgotten too, so the client cannot come back through /authorize without asking the person."""
    settings = app.config["SETTINGS"]
    person, client = make_user(), app_client()
    tokens = make_person_tokens(settings, client.client.client_id, person)
    other = make_person_tokens(settings, client.client.client_id)
    db.session.add(
        Consent(
            user_id=person.id, client_id=client.client.client_id, scope="posts:read", resource=settings.resource_url,
            redirect_uris_sha256=fingerprint([REDIRECT_URI]),
        )
    )
    db.session.commit()

    result = run(runner, "grants", "revoke", tokens["grant_id"])

    assert result.stdout == f"{tokens['grant_id']}: revoked; {client.client.client_name} ({client.client.client_id}) no longer acts for {person.email}.\n"
    db.session.expire_all()
    assert db.session.get(Grant, tokens["grant_id"]).revoked_at is not None
    assert voided(app, tokens["access_token"])
    assert not voided(app, other["access_token"])
    assert db.session.scalar(select(Consent).where(Consent.user_id == person.id)) is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["revoke", "no-such-grant"], "No grant with id no-such-grant."),
        (["list", "--user", "nobody@example.com"], "No user with the email nobody@example.com."),
        (["list", "--client", "no-such-client"], "No client with id no-such-client."),
    ],
    ids=["revoke", "list-user", "list-client"],
)
def test_what_does_not_exist_is_named(runner, args, message):
    result = run(runner, "grants", *args, exit_code=2)

    assert message in result.output


def test_a_revocation_redis_could_not_take_is_said_and_written_when_run_again(runner, app):
    """The grant ends in the database first (its refresh tokens fail at once); the access tokens'
    entry needs Redis, and running the command again writes it."""
    client = app_client()
    tokens = make_person_tokens(app.config["SETTINGS"], client.client.client_id)
    unreachable = create_cli_app(replace(app.config["SETTINGS"], redis_url=f"redis://127.0.0.1:{live.free_port()}/0"))

    with unreachable.app_context():
        failed = run(unreachable.test_cli_runner(), "grants", "revoke", tokens["grant_id"], exit_code=1)

    assert f"{tokens['grant_id']}: revoked in the database (its refresh tokens void, the consent forgotten), but Redis is unreachable" in failed.output
    assert f"Run `drawbridge grants revoke {tokens['grant_id']}` again once Redis answers." in failed.output
    db.session.expire_all()
    assert db.session.get(Grant, tokens["grant_id"]).revoked_at is not None
    assert not voided(app, tokens["access_token"])

    run(runner, "grants", "revoke", tokens["grant_id"])

    assert voided(app, tokens["access_token"])
