"""Who may register what (issue #18): open registration acts for a person, machines need an operator.

Open dynamic registration (RFC 7591, no initial access token) creates only clients that act for a
person; a machine client (client_credentials) needs an initial access token an operator issued, and
holds only the scopes that token allows. A remembered consent is bound to its resource and to the
redirect URIs the client had when the person gave it.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlencode

import httpx
import pytest
from flask.testing import FlaskCliRunner
from flask_migrate import upgrade
from sqlalchemy import create_engine, select, text

from authserver.models import Client
from authserver.oauth.client_secrets import hash_secret
from shared.cli import MIGRATIONS_DIR, cli, create_cli_app
from shared.db import db, utcnow
from tests.browser_forms import FormBrowser, query
from tests.factories import PASSWORD, make_user, pkce_pair, register

pytestmark = pytest.mark.usefixtures("live_services")

REDIRECT_URI = "http://127.0.0.1:8765/callback"
MACHINE = {
    "grant_types": ["client_credentials"],
    "response_types": [],
    "token_endpoint_auth_method": "client_secret_basic",
}


@pytest.fixture(scope="module")
def operator(settings) -> FlaskCliRunner:
    """The `drawbridge` command line, on the live services' database (one app: one connection pool)."""
    return create_cli_app(settings).test_cli_runner()


def issue_initial_access_token(operator: FlaskCliRunner, scopes: str, *extra: str) -> dict:
    """What an operator runs: `drawbridge registration-tokens create ... --json`."""
    args = ["registration-tokens", "create", "--scopes", scopes, "--expires-in", "1h", "--json", *extra]
    result = operator.invoke(cli, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def post_registration(settings, body: dict, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{settings.issuer}/register", json=body, headers=headers, timeout=10)


def client_credentials_token(settings, client_id: str, secret: str, **form: str) -> httpx.Response:
    data = {"grant_type": "client_credentials", "resource": settings.resource_url, **form}
    return httpx.post(f"{settings.issuer}/token", data=data, auth=(client_id, secret), timeout=10)


def stored_names(name: str) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(Client.client_id).where(Client.client_name == name)))


def unique_name() -> str:
    return f"policy test {secrets.token_hex(4)}"


@pytest.mark.parametrize(
    "metadata",
    [
        MACHINE,
        {**MACHINE, "grant_types": ["authorization_code", "client_credentials"], "response_types": ["code"], "redirect_uris": [REDIRECT_URI]},
        {**MACHINE, "grant_types": []},
    ],
    ids=["client-credentials", "code-and-client-credentials", "no-grant-at-all"],
)
def test_open_registration_creates_only_clients_that_act_for_a_person(settings, auth_context, metadata):
    """RFC 7591 section 3: "The client registration endpoint MAY be designed to allow a client to
    register without an initial access token. This approach would allow for the authorization server
    to ... restrict registration to certain types of clients" -- here, clients that act for a person
    (authorization_code, optionally refresh_token). Section 3.2.2: a refused value is
    "invalid_client_metadata". Issue #18: an anonymous registration asking for client_credentials
    used to get every scope, and its secret minted full tokens."""
    name = unique_name()

    response = post_registration(settings, {**metadata, "client_name": name})

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"
    assert "initial access token" in response.json()["error_description"]
    assert stored_names(name) == []


def test_an_update_cannot_turn_an_open_client_into_a_machine(settings, auth_context):
    """RFC 7592 section 2.2: "the authorization server MAY reject or replace any of the client's
    requested metadata values"; an update is held to the same policy as the registration, so a
    client registered without an initial access token never gains client_credentials (issue #18)."""
    body = register(settings.issuer, token_endpoint_auth_method="client_secret_basic", client_name=unique_name())
    uri, headers = body["registration_client_uri"], {"Authorization": f"Bearer {body['registration_access_token']}"}
    update = {
        **{k: body[k] for k in ("client_id", "client_name", "redirect_uris", "token_endpoint_auth_method")},
        "grant_types": ["authorization_code", "client_credentials"],
        "response_types": ["code"],
    }

    updated = httpx.put(uri, headers=headers, json=update, timeout=10)
    token = client_credentials_token(settings, body["client_id"], body["client_secret"])

    assert updated.status_code == 400
    assert updated.json()["error"] == "invalid_client_metadata"
    assert token.status_code == 400
    assert token.json()["error"] == "unauthorized_client"
    db.session.expire_all()
    assert db.session.scalar(select(Client.grant_types).where(Client.client_id == body["client_id"])) == "authorization_code refresh_token"


def test_a_machine_client_gets_the_initial_access_tokens_scopes_never_all(settings, auth_context, operator):
    """RFC 7591 section 3: "The initial access token MAY be used to ... limit registration to a
    specific set of scopes"; section 2: "If omitted, an authorization server MAY register a client
    with a default set of scopes" -- here the token's scopes, never the whole catalogue (issue #18:
    "No path gives a client 'all scopes'")."""
    token = issue_initial_access_token(operator, "posts:read orders:read")["initial_access_token"]

    response = post_registration(settings, {**MACHINE, "client_name": unique_name()}, token)

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["scope"] == "orders:read posts:read"
    minted = client_credentials_token(settings, body["client_id"], body["client_secret"])
    assert minted.status_code == 200
    assert minted.json()["scope"] == "orders:read posts:read"
    wider = client_credentials_token(settings, body["client_id"], body["client_secret"], scope="posts:write")
    assert wider.json()["error"] == "invalid_scope"


def test_a_machine_client_cannot_ask_beyond_its_initial_access_token(settings, auth_context, operator):
    """RFC 7591 section 3.2.2: "invalid_client_metadata: The value of one of the client metadata
    fields is invalid and the server has rejected this request." A `scope` beyond what the operator's
    initial access token allows is refused, not silently narrowed, so the client knows at once."""
    token = issue_initial_access_token(operator, "posts:read")["initial_access_token"]
    name = unique_name()

    response = post_registration(settings, {**MACHINE, "client_name": name, "scope": "posts:read posts:write"}, token)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"
    assert "posts:write" in response.json()["error_description"]
    assert stored_names(name) == []


def _expire(token: str) -> None:
    done = db.session.execute(
        text("UPDATE initial_access_tokens SET expires_at = :past WHERE token_hash = :hash"),
        {"past": utcnow() - timedelta(seconds=1), "hash": hash_secret(token)},
    )
    assert done.rowcount == 1
    db.session.commit()


@pytest.mark.parametrize("case", ["unknown", "expired", "used-up", "basic-scheme"])
def test_a_bad_initial_access_token_is_refused_and_never_falls_back_to_open_registration(settings, auth_context, operator, case):
    """RFC 7591 section 3: an initial access token is an OAuth 2.0 bearer token; RFC 6750 section
    3.1: "invalid_token: The access token provided is expired, revoked, malformed, or invalid for
    other reasons. The resource SHOULD respond with the HTTP 401 (Unauthorized) status code", with a
    WWW-Authenticate challenge (section 3). A registration that presented one is never treated as
    an open registration instead."""
    token = issue_initial_access_token(operator, "posts:read", "--uses", "1")["initial_access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    if case == "unknown":
        headers = {"Authorization": f"Bearer {secrets.token_urlsafe(32)}"}
    elif case == "expired":
        _expire(token)
    elif case == "used-up":
        assert post_registration(settings, {**MACHINE, "client_name": unique_name()}, token).status_code == 201
    elif case == "basic-scheme":
        headers = {"Authorization": "Basic " + token}
    name = unique_name()

    # A person-facing client, which open registration would accept: the bad token must still fail.
    response = httpx.post(
        f"{settings.issuer}/register",
        json={"client_name": name, "redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "none"},
        headers=headers,
        timeout=10,
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert stored_names(name) == []


def test_concurrent_registrations_cannot_overspend_an_initial_access_token(settings, auth_context, operator):
    """RFC 7591 section 3: the initial access token's use is the operator's to limit; `--uses 2`
    means two clients, however many registrations race for it (the use is spent atomically)."""
    token = issue_initial_access_token(operator, "posts:read", "--uses", "2")["initial_access_token"]
    racers = 6
    start = threading.Barrier(racers)
    answers: list[int] = []

    def race() -> None:
        start.wait()
        answers.append(post_registration(settings, {**MACHINE, "client_name": unique_name()}, token).status_code)

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(answers) == [201, 201, 401, 401, 401, 401]
    left = db.session.execute(
        text("SELECT uses_left FROM initial_access_tokens WHERE token_hash = :hash"), {"hash": hash_secret(token)}
    ).scalar_one()
    assert left == 0


def test_the_operator_command_prints_the_token_once_and_stores_its_hash(settings, auth_context, operator):
    """RFC 7591 section 3 leaves the initial access token's issuance to the server; as every secret
    here (RFC 6819 section 5.1.4.1.3, "No Cleartext Storage of Credentials"), only its hash is kept."""
    issued = issue_initial_access_token(operator, "posts:read", "--uses", "3")

    rows = db.session.execute(
        text("SELECT token_hash, scope, uses_left FROM initial_access_tokens WHERE token_hash = :hash"),
        {"hash": hash_secret(issued["initial_access_token"])},
    ).all()

    assert len(issued["initial_access_token"]) >= 43
    assert [tuple(r) for r in rows] == [(hash_secret(issued["initial_access_token"]), "posts:read", 3)]
    assert issued["scope"] == "posts:read"
    assert issued["uses"] == 3
    refused = operator.invoke(cli, ["registration-tokens", "create", "--scopes", "", "--expires-in", "1h"])
    assert refused.exit_code == 2


def test_an_update_never_widens_a_machine_clients_scopes(settings, auth_context, operator):
    """RFC 7592 section 2.2: the server "MAY reject or replace any of the client's requested metadata
    values"; a machine client keeps within the scopes it was registered with, and an update naming no
    scope keeps them (issue #18: "No path gives a client 'all scopes'")."""
    token = issue_initial_access_token(operator, "posts:read posts:write")["initial_access_token"]
    body = post_registration(settings, {**MACHINE, "client_name": unique_name(), "scope": "posts:read"}, token).json()
    uri, headers = body["registration_client_uri"], {"Authorization": f"Bearer {body['registration_access_token']}"}
    same = {k: body[k] for k in ("client_id", "client_name", "grant_types", "response_types", "token_endpoint_auth_method")}

    without_scope = httpx.put(uri, headers=headers, json=same, timeout=10)
    wider = httpx.put(uri, headers=headers, json={**same, "scope": "posts:read posts:write orders:read"}, timeout=10)

    assert without_scope.status_code == 200
    assert without_scope.json()["scope"] == "posts:read"
    assert wider.status_code == 400
    assert wider.json()["error"] == "invalid_client_metadata"
    db.session.expire_all()
    assert db.session.scalar(select(Client.scope).where(Client.client_id == body["client_id"])) == "posts:read"


def authorize_url(base: str, client_id: str, redirect_uri: str, resource: str) -> str:
    _, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "posts:read",
        "state": "s",
        "resource": resource,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{base}/authorize?{urlencode(params)}"


def test_a_remembered_consent_is_bound_to_its_resource(settings, auth_app, monkeypatch):
    """RFC 8707 section 2: the resource parameter names "the target service or resource to which
    access is being requested"; a person who allowed a client access to one resource has not allowed
    it access to another, so the consent page is shown again instead of a code being sent back."""
    other = "https://other-mcp.example/mcp"
    # The in-process server, told of a second resource; it answers the browser without a socket.
    monkeypatch.setitem(auth_app.config, "SETTINGS", replace(settings, known_resources=(settings.resource_url, other)))
    with auth_app.app_context():
        browser = FormBrowser(make_user().email, PASSWORD)
    browser.http = httpx.Client(transport=httpx.WSGITransport(app=auth_app), follow_redirects=False, timeout=10)
    client = register(settings.issuer, redirect_uris=[REDIRECT_URI])
    base = "http://127.0.0.1"

    first = browser.consent(authorize_url(base, client["client_id"], REDIRECT_URI, settings.resource_url))
    again = browser.http.get(authorize_url(base, client["client_id"], REDIRECT_URI, settings.resource_url))
    elsewhere = browser.http.get(authorize_url(base, client["client_id"], REDIRECT_URI, other))

    assert "code" in query(first)
    assert again.status_code == 302 and "code" in query(again.headers["Location"])
    assert elsewhere.status_code == 200
    assert 'name="granted"' in elsewhere.text


def test_a_remembered_consent_ends_when_the_redirect_uris_change(settings, auth_context):
    """RFC 7592 section 2.2 lets the holder of the registration access token replace the redirect
    URIs; RFC 9700 section 4.1 (redirect URI manipulation): codes must not reach a URI the person
    never saw. A consent given for the old URIs no longer applies: the person is asked again."""
    person = make_user()
    browser = FormBrowser(person.email, PASSWORD)
    client = register(settings.issuer, redirect_uris=[REDIRECT_URI])
    first = browser.consent(authorize_url(settings.issuer, client["client_id"], REDIRECT_URI, settings.resource_url))
    assert "code" in query(first)
    attacker = "https://attacker.example/callback"
    uri, headers = client["registration_client_uri"], {"Authorization": f"Bearer {client['registration_access_token']}"}
    update = {k: client[k] for k in ("client_id", "client_name", "grant_types", "response_types", "token_endpoint_auth_method")}
    assert httpx.put(uri, headers=headers, json={**update, "redirect_uris": [REDIRECT_URI, attacker]}, timeout=10).status_code == 200

    # The authorization server keeps a client it has read for a few seconds: wait until it knows the new URI.
    deadline = time.monotonic() + 20
    while True:
        answer = browser.http.get(authorize_url(settings.issuer, client["client_id"], attacker, settings.resource_url))
        if answer.status_code != 400 or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    old_uri = browser.http.get(authorize_url(settings.issuer, client["client_id"], REDIRECT_URI, settings.resource_url))

    assert answer.status_code == 200, answer.headers.get("Location")
    assert 'name="granted"' in answer.text
    assert old_uri.status_code == 200
    assert 'name="granted"' in old_uri.text


def test_the_metadata_documents_the_registration_policy(settings):
    """RFC 8414 section 2: "service_documentation: URL of a page containing human-readable
    information that developers might want or need to know when using the authorization server."
    Issue #18: that an initial access token is required for machine clients is advertised there."""
    document = httpx.get(f"{settings.issuer}/.well-known/oauth-authorization-server", timeout=10).json()

    page = httpx.get(document["service_documentation"], timeout=10)

    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "initial access token" in page.text
    assert "client_credentials" in page.text


def test_the_upgrade_takes_client_credentials_from_anonymously_registered_clients(tmp_path, settings):
    """Issue #18: clients registered anonymously before this release could hold client_credentials
    and mint tokens without any person or operator. The upgrade takes that grant away from every
    dynamically registered client (none had an initial access token then); operator clients keep it."""
    url = f"sqlite:///{tmp_path / 'upgrade.sqlite3'}"
    app = create_cli_app(replace(settings, database_url=url))
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR), revision="0007")
    engine = create_engine(url)
    rows = [
        ("anon-machine", "dcr", "client_credentials"),
        ("anon-mixed", "dcr", "authorization_code refresh_token client_credentials"),
        ("anon-person", "dcr", "authorization_code refresh_token"),
        ("operator", "cli", "client_credentials"),
    ]
    with engine.begin() as connection:
        for client_id, via, grants in rows:
            connection.execute(
                text(
                    "INSERT INTO oauth_clients (client_id, client_name, scope, grant_types, token_endpoint_auth_method,"
                    " redirect_uris, response_types, client_metadata, registered_via, created_at)"
                    " VALUES (:id, :id, 'posts:read', :grants, 'client_secret_basic', '[]', '', '{}', :via, :now)"
                ),
                {"id": client_id, "grants": grants, "via": via, "now": utcnow()},
            )

    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
    with engine.connect() as connection:
        after = dict(connection.execute(text("SELECT client_id, grant_types FROM oauth_clients")).all())
    engine.dispose()

    assert after == {
        "anon-machine": "",
        "anon-mixed": "authorization_code refresh_token",
        "anon-person": "authorization_code refresh_token",
        "operator": "client_credentials",
    }
