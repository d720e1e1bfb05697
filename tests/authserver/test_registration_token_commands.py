"""`drawbridge registration-tokens list|revoke`: the initial access tokens (RFC 7591 section 3) an
operator issued, seen without their values, and taken back by id."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from authserver.models import Client, InitialAccessToken
from authserver.oauth.client_secrets import hash_secret
from shared.cli import create_cli_app
from shared.db import db, utcnow
from tests.authserver.commands import run

MACHINE = {
    "grant_types": ["client_credentials"],
    "response_types": [],
    "token_endpoint_auth_method": "client_secret_basic",
    "scope": "posts:read",
}


@pytest.fixture
def runner(fresh_auth_app: Flask) -> FlaskCliRunner:
    return create_cli_app(fresh_auth_app.config["SETTINGS"]).test_cli_runner()



def issue(runner: FlaskCliRunner, *extra: str) -> dict:
    return json.loads(run(runner, "registration-tokens", "create", "--scopes", "posts:read", "--expires-in", "1h", "--json", *extra).stdout)


def test_list_shows_each_token_without_its_value(runner):
    limited, unlimited = issue(runner, "--uses", "2"), issue(runner)

    listed = json.loads(run(runner, "registration-tokens", "list", "--json").stdout)
    table = run(runner, "registration-tokens", "list").stdout

    assert [(t["id"], t["scope"], t["uses_left"], t["state"]) for t in listed] == [
        (unlimited["id"], "posts:read", None, "usable"),
        (limited["id"], "posts:read", 2, "usable"),
    ]
    assert listed[1]["expires_at"] == limited["expires_at"]
    assert table.splitlines()[0].split() == ["ID", "STATE", "SCOPES", "EXPIRES", "USES", "LEFT"]
    assert table.splitlines()[1].split()[:3] == [str(unlimited["id"]), "usable", "posts:read"]
    assert table.splitlines()[1].endswith("unlimited")
    for issued in (limited, unlimited):
        assert issued["initial_access_token"] not in table + json.dumps(listed)
        assert hash_secret(issued["initial_access_token"]) not in table + json.dumps(listed)


def test_expired_and_used_up_tokens_are_listed_only_when_asked(runner):
    expired, used_up, usable = issue(runner), issue(runner, "--uses", "1"), issue(runner)
    db.session.get(InitialAccessToken, expired["id"]).expires_at = utcnow() - timedelta(seconds=1)
    db.session.get(InitialAccessToken, used_up["id"]).uses_left = 0
    db.session.commit()

    usable_only = json.loads(run(runner, "registration-tokens", "list", "--json").stdout)
    every = json.loads(run(runner, "registration-tokens", "list", "--all", "--json").stdout)

    assert [t["id"] for t in usable_only] == [usable["id"]]
    assert {t["id"]: t["state"] for t in every} == {usable["id"]: "usable", used_up["id"]: "used up", expired["id"]: "expired"}


def test_a_revoked_token_registers_nothing_and_its_clients_stay(runner, fresh_auth_app):
    """RFC 7591 section 3: the initial access token is how the server restricts registration; one
    revoked gets RFC 6750's 401 invalid_token, like an unknown one."""
    issued = issue(runner)
    http = fresh_auth_app.test_client()
    headers = {"Authorization": f"Bearer {issued['initial_access_token']}"}
    registered = http.post("/register", json=MACHINE, headers=headers)
    assert registered.status_code == 201, registered.json

    result = run(runner, "registration-tokens", "revoke", str(issued["id"]))

    assert result.stdout == f"Registration token {issued['id']}: revoked.\n"
    refused = http.post("/register", json=MACHINE, headers=headers)
    assert (refused.status_code, refused.json["error"]) == (401, "invalid_token")
    assert db.session.scalar(select(Client.client_id).where(Client.client_id == registered.json["client_id"])) is not None
    assert run(runner, "registration-tokens", "list").stdout == "No registration tokens.\n"


@pytest.mark.parametrize(
    ("token_id", "message"),
    [("7", "No registration token with id 7."), ("99999999999999999999", "No registration token with id 99999999999999999999."), ("x", "'x' is not a valid integer")],
    ids=["unknown", "beyond-the-key", "not-a-number"],
)
def test_revoke_names_what_it_cannot_find(runner, token_id, message):
    result = run(runner, "registration-tokens", "revoke", token_id, exit_code=2)

    assert message in result.output
