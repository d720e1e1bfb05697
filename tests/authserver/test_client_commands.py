"""`drawbridge clients create|list|show|update|delete` as an operator runs them: every kind of
client, what is stored and printed, and what each refusal says.

That the tokens of a deleted or narrowed client then fail at the MCP server is tested end to end,
on the live services, in tests/security/test_taking_access_back.py.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select, update

from authserver import keys
from authserver.client_specs import MACHINE, WEB_APP
from authserver.models import FROM_METADATA_DOCUMENT, AuthorizationCode, Client, Grant
from authserver.oauth.client_secrets import hash_secret
from authserver.oauth.tokens import token_issuer
from shared.cli import create_cli_app
from shared.db import db, utcnow
from tests import live
from tests.authserver.commands import run
from tests.authserver.test_revocation_endpoint import voided
from tests.factories import make_client, make_person_tokens, make_user

REDIRECT_URI = "https://app.example.com/callback"


@pytest.fixture
def app(fresh_auth_app: Flask) -> Flask:
    """An authorization server on its own database, with a key to sign the tests' tokens."""
    keys.ensure()
    return fresh_auth_app


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return create_cli_app(app.config["SETTINGS"]).test_cli_runner()


@pytest.fixture
def unreachable_redis(app: Flask) -> Flask:
    """`drawbridge`'s app on the same database, with Redis down: a command runs in the app
    context it finds (flask.cli.with_appcontext), so a test runs it inside this app's."""
    return create_cli_app(replace(app.config["SETTINGS"], redis_url=f"redis://127.0.0.1:{live.free_port()}/0"))



def stored(client_id: str) -> Client:
    db.session.expire_all()
    return db.session.scalar(select(Client).where(Client.client_id == client_id))


@pytest.mark.parametrize(
    ("kind", "grant_types", "auth_method", "response_types", "uris"),
    [
        ("machine", "client_credentials", "client_secret_basic", "", []),
        ("web", "authorization_code refresh_token", "client_secret_basic", "code", [REDIRECT_URI, "http://127.0.0.1/callback"]),
        ("public", "authorization_code refresh_token", "none", "code", ["http://[::1]/callback"]),
    ],
)
def test_clients_create_makes_each_kind(runner, kind, grant_types, auth_method, response_types, uris):
    """RFC 6749 section 2.1: confidential clients (a machine, a web app's server) get a secret, shown
    once and stored as a hash; a public app "incapable of maintaining the confidentiality of their
    credentials" gets none. Section 3.1.2.2: the apps, which act for a person, register their
    redirect URIs."""
    args = ["clients", "create", "--name", f"A {kind}", "--kind", kind, "--scopes", "posts:read"]
    result = run(runner, *args, *(part for uri in uris for part in ("--redirect-uri", uri)))

    printed = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    client = stored(printed["client_id"])
    assert (client.grant_types, client.token_endpoint_auth_method, client.response_types) == (grant_types, auth_method, response_types)
    assert client.redirect_uris == uris
    assert client.scope == "posts:read"
    if kind == "public":
        assert "client_secret" not in printed
        assert client.secrets == []
        assert "A public app has no secret" in result.stderr
    else:
        assert [s.secret_hash for s in client.secrets] == [hash_secret(printed["client_secret"])]
        assert "Store the secret now" in result.stderr


def test_clients_create_json_is_one_document_with_the_secret(runner):
    result = run(runner, "clients", "create", "--name", "Blog", "--kind", "web", "--scopes", "posts:read posts:write", "--redirect-uri", REDIRECT_URI, "--json")

    created = json.loads(result.stdout)
    assert created["kind"] == "web"
    assert created["scopes"] == ["posts:read", "posts:write"]
    assert created["redirect_uris"] == [REDIRECT_URI]
    assert [s.secret_hash for s in stored(created["client_id"]).secrets] == [hash_secret(created["client_secret"])]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "web", "--redirect-uri", "http://app.example.com/callback"], "must be an https URL, or http on 127.0.0.1"),
        (["--kind", "web", "--redirect-uri", "https://app.example.com/callback#here"], "has a fragment"),
        (["--kind", "public", "--redirect-uri", "https://0x7f.1/callback"], "would take a browser to 127.0.0.1"),
        (["--kind", "web"], "A web app needs at least one redirect URI"),
        (["--redirect-uri", REDIRECT_URI], "A machine client has no redirect URIs"),
        (["--kind", "public", "--redirect-uri", REDIRECT_URI, "--introspect"], "Only a machine client may introspect"),
    ],
    ids=["http-elsewhere", "fragment", "browser-reads-another-host", "app-without-uri", "machine-with-uri", "introspecting-app"],
)
def test_clients_create_refuses_what_may_not_be_registered(runner, args, message):
    """RFC 6749 section 3.1.2: redirect URIs are absolute, without a fragment; RFC 8252 section 8.3:
    http only on loopback. The rules are registration's own (oauth/redirect_uris.py)."""
    result = run(runner, "clients", "create", "--name", "x", "--scopes", "posts:read", *args, exit_code=2)

    assert message in result.output
    assert db.session.query(Client).count() == 0


def test_clients_list_shows_every_client_and_never_a_secret(runner):
    machine = make_client(scope="posts:read")
    app = make_client(kind=WEB_APP, redirect_uris=(REDIRECT_URI,))
    app.client.disabled_at = utcnow()
    db.session.commit()

    table = run(runner, "clients", "list").stdout
    listed = json.loads(run(runner, "clients", "list", "--json").stdout)
    machines = json.loads(run(runner, "clients", "list", "--kind", "machine", "--json").stdout)

    assert table.splitlines()[0].split() == ["CLIENT", "ID", "KIND", "STATE", "NAME", "SCOPES", "LAST", "USED"]
    assert f"{machine.client.client_id}  machine  enabled" in table
    assert f"{app.client.client_id}  web      disabled" in table
    assert [c["client_id"] for c in listed] == [app.client.client_id, machine.client.client_id]  # newest first
    assert [c["client_id"] for c in machines] == [machine.client.client_id]
    for secret in (machine.client_secret, app.client_secret, hash_secret(machine.client_secret or "")):
        assert secret not in table + json.dumps(listed)


def test_clients_show_prints_one_client(runner):
    machine = make_client(scope="posts:read", rate_limit=30)

    shown = json.loads(run(runner, "clients", "show", machine.client.client_id, "--json").stdout)
    lines = run(runner, "clients", "show", machine.client.client_id).stdout.splitlines()

    assert shown["client_id"] == machine.client.client_id
    assert (shown["kind"], shown["scopes"], shown["rate_limit_per_minute"], shown["disabled_at"]) == ("machine", ["posts:read"], 30, None)
    assert (shown["person_rate_limit_per_minute"], shown["tool_rate_limits"]) == (None, {})
    assert "kind: machine" in lines
    assert "rate_limit_per_minute: 30" in lines
    assert machine.client_secret not in json.dumps(shown) + "\n".join(lines)


@pytest.mark.parametrize(
    "command",
    [
        ["clients", "show", "no-such-client"],
        ["clients", "update", "no-such-client", "--name", "x"],
        ["clients", "delete", "no-such-client", "--yes"],
        ["clients", "limit", "no-such-client", "5"],
    ],
    ids=["show", "update", "delete", "limit"],
)
def test_an_unknown_client_id_is_named(runner, command):
    result = run(runner, *command, exit_code=2)

    assert "No client with id no-such-client." in result.output


def machine_token(client_id: str, scope: str, settings) -> str:
    return token_issuer().issue(
        client_id=client_id, subject=client_id, scope=scope, audience=settings.resource_url, grant_type="client_credentials"
    )["access_token"]


def test_clients_update_renames_and_replaces_the_redirect_uris(runner, app):
    """The new redirect URIs void the codes issued for the old ones, which had not been exchanged."""
    client = make_client(kind=WEB_APP, redirect_uris=(REDIRECT_URI,))
    code = AuthorizationCode(
        code_hash="0" * 64, client_id=client.client.client_id, user_id=make_user().id, redirect_uri=REDIRECT_URI, scope="posts:read",
        resource="r", code_challenge="c" * 43, code_challenge_method="S256", expires_at=utcnow(),
    )
    db.session.add(code)
    db.session.commit()
    new_uris = ["https://app.example.com/v2/callback", "http://localhost/callback"]

    result = run(runner, "clients", "update", client.client.client_id, "--name", "Blog v2", *(p for u in new_uris for p in ("--redirect-uri", u)), "--json")

    assert (json.loads(result.stdout)["name"], json.loads(result.stdout)["redirect_uris"]) == ("Blog v2", new_uris)
    assert (stored(client.client.client_id).client_name, stored(client.client.client_id).redirect_uris) == ("Blog v2", new_uris)
    assert db.session.query(AuthorizationCode).count() == 0


def test_scopes_taken_away_end_at_once(runner, app):
    """DESIGN.md: "A client's limit, scopes or disabling take effect at the resource server within
    seconds". RFC 6749 section 6: a refresh may not give "any scope not originally granted by the
    resource owner": the grants keep only the scopes the client still has, one left with none ends,
    and the access tokens issued before the change are void."""
    settings = app.config["SETTINGS"]
    client = make_client(scope="posts:read posts:write", kind=WEB_APP, redirect_uris=(REDIRECT_URI,))
    both = make_person_tokens(settings, client.client.client_id, scope="posts:read posts:write")
    writing = make_person_tokens(settings, client.client.client_id, scope="posts:write")

    run(runner, "clients", "update", client.client.client_id, "--scopes", "posts:read")

    db.session.expire_all()
    assert stored(client.client.client_id).scope == "posts:read"
    assert (db.session.get(Grant, both["grant_id"]).scope, db.session.get(Grant, both["grant_id"]).revoked_at) == ("posts:read", None)
    assert db.session.get(Grant, writing["grant_id"]).revoked_at is not None
    assert voided(app, both["access_token"])


def test_a_machine_keeps_its_tokens_when_no_scope_is_taken_away(runner, app):
    settings = app.config["SETTINGS"]
    machine = make_client(scope="posts:read")
    token = machine_token(machine.client.client_id, "posts:read", settings)

    run(runner, "clients", "update", machine.client.client_id, "--scopes", "posts:read posts:write", "--name", "Wider")

    assert stored(machine.client.client_id).scope == "posts:read posts:write"
    assert not voided(app, token)

    run(runner, "clients", "update", machine.client.client_id, "--scopes", "posts:write")

    assert voided(app, token)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "Nothing to change: give --name, --scopes or --redirect-uri."),
        (["--scopes", "posts:read root:all"], "Unknown scopes: root:all"),
        (["--scopes", ""], "A client needs at least one scope"),
        (["--name", " "], "A client needs a name."),
        (["--redirect-uri", REDIRECT_URI], "A machine client has no redirect URIs"),
    ],
    ids=["nothing", "unknown-scope", "no-scope", "blank-name", "machine-redirect-uri"],
)
def test_clients_update_refuses_bad_input_and_changes_nothing(runner, args, message):
    machine = make_client(scope="posts:read")

    result = run(runner, "clients", "update", machine.client.client_id, *args, exit_code=2)

    assert message in result.output
    assert (stored(machine.client.client_id).scope, stored(machine.client.client_id).client_name) == ("posts:read", machine.client.client_name)


def test_a_client_known_from_its_metadata_document_is_not_updated(runner):
    """draft-ietf-oauth-client-id-metadata-document-01 section 4.4: the client's row is a copy of its
    document, fetched again once the copy is stale; a change made here would silently go."""
    machine = make_client(scope="posts:read")
    db.session.execute(update(Client).where(Client.id == machine.client.id).values(registered_via=FROM_METADATA_DOCUMENT))
    db.session.commit()

    result = run(runner, "clients", "update", machine.client.client_id, "--name", "Renamed", exit_code=2)

    assert "is what its client metadata document says: change the document, or disable the client." in result.output
    assert stored(machine.client.client_id).client_name == machine.client.client_name


def test_clients_update_changes_nothing_while_redis_is_unreachable(unreachable_redis, app):
    machine = make_client(scope="posts:read posts:write")

    with unreachable_redis.app_context():
        result = run(unreachable_redis.test_cli_runner(), "clients", "update", machine.client.client_id, "--scopes", "posts:read", exit_code=1)

    assert f"{machine.client.client_id}: Redis is unreachable, so nothing was changed" in result.output
    assert stored(machine.client.client_id).scope == "posts:read posts:write"


def test_clients_delete_asks_first_then_removes_the_client_and_voids_its_tokens(runner, app):
    """RFC 7592 section 2.3, as for a registration's DELETE: deleting "will invalidate the client_id,
    client_secret" and the server "SHOULD immediately invalidate all existing authorization grants
    and currently-active access tokens, refresh tokens, and other tokens associated with this client"."""
    client = make_client(scope="posts:read", kind=WEB_APP, redirect_uris=(REDIRECT_URI,))
    tokens = make_person_tokens(app.config["SETTINGS"], client.client.client_id)

    declined = run(runner, "clients", "delete", client.client.client_id, stdin="n\n", exit_code=1)
    assert "Aborted" in declined.output
    assert stored(client.client.client_id) is not None

    result = run(runner, "clients", "delete", client.client.client_id, "--yes")

    assert result.stdout == f"{client.client.client_id}: deleted; its tokens no longer work.\n"
    assert stored(client.client.client_id) is None
    assert db.session.get(Grant, tokens["grant_id"]) is None
    assert voided(app, tokens["access_token"])


def test_clients_delete_keeps_the_client_while_redis_is_unreachable(unreachable_redis, app):
    machine = make_client(scope="posts:read")

    with unreachable_redis.app_context():
        result = run(unreachable_redis.test_cli_runner(), "clients", "delete", machine.client.client_id, "--yes", exit_code=1)

    assert f"{machine.client.client_id}: Redis is unreachable, so nothing was changed" in result.output
    assert stored(machine.client.client_id) is not None


def test_machine_is_the_default_kind(runner):
    created = json.loads(run(runner, "clients", "create", "--name", "CI", "--scopes", "posts:read", "--json").stdout)

    assert created["kind"] == MACHINE.name
    assert created["grant_types"] == ["client_credentials"]
