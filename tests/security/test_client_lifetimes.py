"""Credentials that end: an expired client, and a secret past its rotation's grace, authenticate
nowhere; a new secret is never stored in clear."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text, update

from authserver import secret_rotation
from authserver.clients import NewClient, prune_unused
from authserver.models import FROM_METADATA_DOCUMENT, Client, ClientSecret
from authserver.oauth.client_lookup import query_client
from authserver.oauth.client_secrets import hash_secret
from shared.cli import cli, create_cli_app
from shared.db import db, utcnow
from tests.authserver.test_authorization_code import authorize_url
from tests.authserver.test_revocation_endpoint import basic
from tests.factories import make_app_client, make_client, make_person_tokens, pkce_pair, register


@pytest.fixture
def http(auth_app: Flask) -> FlaskClient:
    return auth_app.test_client()


def confidential_app(settings) -> tuple[NewClient, dict[str, str]]:
    """A confidential client acting for a person, with the tokens a consent gave it."""
    app = make_app_client(public=False)
    return NewClient(client=app.client, client_secret=app.client_secret or ""), make_person_tokens(settings, app.client.client_id)


def authenticate(http: FlaskClient, endpoint: str, client: NewClient, tokens: dict[str, str]):
    """A request at `endpoint` that succeeds for these credentials while they are valid."""
    headers = basic(client.client.client_id, client.client_secret)
    if endpoint == "client_credentials":
        return http.post("/token", data={"grant_type": "client_credentials"}, headers=headers)
    if endpoint == "refresh_token":
        return http.post("/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, headers=headers)
    return http.post(f"/{endpoint}", data={"token": tokens["access_token"]}, headers=headers)


@pytest.fixture(params=["client_credentials", "refresh_token", "revoke", "introspect"])
def endpoint(request) -> str:
    return request.param


@pytest.fixture
def credentials(endpoint, settings, auth_context) -> tuple[NewClient, dict[str, str]]:
    """A client able to succeed at `endpoint`: a machine client for client_credentials, else a
    confidential client acting for a person."""
    if endpoint == "client_credentials":
        return make_client(scope="posts:read"), {}
    return confidential_app(settings)


def assert_invalid_client(response) -> None:
    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_an_expired_client_authenticates_nowhere(http, endpoint, credentials):
    """RFC 6749 section 5.2: "invalid_client: Client authentication failed (e.g., unknown client, no
    client authentication included, or unsupported authentication method). ... If the client
    attempted to authenticate via the "Authorization" request header field, the authorization
    server MUST respond with an HTTP 401 (Unauthorized) status code and include the
    "WWW-Authenticate" response header field". A client past its expiry is no client, at every
    endpoint a client authenticates at."""
    client, tokens = credentials
    db.session.execute(update(Client).where(Client.id == client.client.id).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()

    assert_invalid_client(authenticate(http, endpoint, client, tokens))


def test_a_secret_past_its_grace_authenticates_nowhere_and_the_new_one_everywhere(http, endpoint, credentials):
    """RFC 6749 section 5.2: "invalid_client: Client authentication failed", 401 with the
    "WWW-Authenticate" header for a client that used Authorization. A secret whose rotation grace
    has ended is a wrong secret at every endpoint; the secret that replaced it works there."""
    client, tokens = credentials
    new_secret = secret_rotation.rotate_secret(client.client.client_id, grace_seconds=3600).client_secret
    old = db.session.scalars(select(ClientSecret).where(ClientSecret.secret_hash == hash_secret(client.client_secret))).one()
    old.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()

    assert_invalid_client(authenticate(http, endpoint, client, tokens))
    renewed = NewClient(client=client.client, client_secret=new_secret)
    assert authenticate(http, endpoint, renewed, tokens).status_code == 200


def test_a_client_is_refused_at_the_moment_it_expires_by_a_copy_read_before(live_services, auth_context):
    """RFC 6749 section 5.2 (invalid_client, 401 with a Basic challenge) from the very moment the
    client expires, though the server holds a copy of the client read a moment before, while it
    was valid: the copy carries the expiry and the clock decides, with no job and no cache delay."""
    client = make_client(scope="posts:read")
    client_id = client.client.client_id
    expires_at = secret_rotation.set_client_expiry(client_id, 3).expires_at
    url = f"{live_services.auth.url}/token"

    def token():
        return httpx.post(url, data={"grant_type": "client_credentials"}, auth=(client_id, client.client_secret), timeout=10)

    sleep_until(expires_at - timedelta(seconds=0.5))
    assert token().status_code == 200  # the copy is read now, within CLIENT_CACHE_SECONDS of the next
    sleep_until(expires_at + timedelta(seconds=0.05))
    refused = token()

    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"
    assert refused.headers["WWW-Authenticate"].startswith("Basic")


def sleep_until(moment: datetime) -> None:
    time.sleep(max(0.0, (moment - utcnow()).total_seconds()))


def test_a_rotated_secret_is_stored_only_as_its_hash(settings, auth_context, commits):
    """RFC 6819 section 5.1.4.1.3, "No Cleartext Storage of Credentials": "The authorization server
    should not store credentials in clear text." No column of any table holds the new secret; its
    SHA-256 hash is what the client's row in client_secrets keeps."""
    client = make_client(scope="posts:read")
    runner = create_cli_app(settings).test_cli_runner()
    result = runner.invoke(cli, ["clients", "rotate-secret", client.client.client_id, "--grace", "1h"], catch_exceptions=False)
    new_secret = dict(line.split(": ", 1) for line in result.stdout.splitlines())["client_secret"]

    with db.engine.connect() as connection:
        stored = [
            str(row)
            for table in db.metadata.sorted_tables
            for row in connection.execute(text(f'SELECT * FROM "{table.name}"'))
        ]
    hashes = db.session.scalars(select(ClientSecret.secret_hash).where(ClientSecret.client_id == client.client.client_id)).all()

    assert not [row for row in stored if new_secret in row]
    assert hash_secret(new_secret) in hashes


def test_an_expired_client_gets_the_error_page_at_authorize_not_a_redirect(live_services, settings, auth_context):
    """RFC 6749 section 4.1.2.1: "If the request fails due to a missing, invalid, or mismatching
    redirection URI, or if the client identifier is missing or invalid, the authorization server
    SHOULD inform the resource owner of the error and MUST NOT automatically redirect the
    user-agent to the invalid redirection URI." An expired client's identifier is invalid."""
    client_id = register(settings.issuer)["client_id"]
    _, challenge = pkce_pair()
    secret_rotation.set_client_expiry(client_id, 0)

    response = httpx.get(authorize_url(settings, client_id, challenge), timeout=10)

    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "text/html" in response.headers["Content-Type"]


def test_an_expired_client_known_from_its_metadata_document_is_no_client_and_stays_so(auth_context):
    """RFC 6749 section 5.2: an expired client fails authentication like an unknown one, whichever
    way it is known: also one whose client_id is its metadata document's URL, while the copy of
    the document is still fresh (nothing is fetched). `clients prune` keeps its row, which is what
    keeps it expired: without it the document would make the client again at its next use."""
    client_id = "https://app.example/client.json"
    db.session.add(
        Client(
            client_id=client_id, client_name="An app", registered_via=FROM_METADATA_DOCUMENT, token_endpoint_auth_method="none",
            grant_types="authorization_code", response_types="code", document_fresh_until=utcnow() + timedelta(hours=1),
            created_at=utcnow() - timedelta(days=91),
        )
    )
    db.session.commit()
    assert query_client(client_id) is not None

    secret_rotation.set_client_expiry(client_id, 0)
    prune_unused(90)

    assert db.session.scalar(select(Client.expires_at).where(Client.client_id == client_id)) is not None
    assert query_client(client_id) is None
