"""Plain http on the endpoints that carry credentials: a precise invalid_request, never a 500."""

from __future__ import annotations

import base64
import secrets
from dataclasses import replace

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

import authserver
from authserver.models import Client
from shared.db import db
from tests.factories import make_client

PLAIN_HTTP = "http://auth.example"  # a Host that is not loopback, over http
# The server under test is an app of its own: the clients the tests make must be committed for it to see them.
pytestmark = pytest.mark.usefixtures("commits")


@pytest.fixture(scope="module")
def http(settings) -> FlaskClient:
    """A server whose public host is auth.example, so requests pass the Host check to the transport rule."""
    return authserver.create_app(replace(settings, issuer="https://auth.example")).test_client()


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


@pytest.mark.parametrize(
    "grant",
    [
        {"grant_type": "authorization_code", "code": "a-code", "redirect_uri": "http://127.0.0.1:8765/cb", "code_verifier": "v" * 43},
        {"grant_type": "refresh_token", "refresh_token": "a-refresh-token"},
        {"grant_type": "client_credentials"},
        {"grant_type": "password", "username": "a", "password": "b"},
    ],
    ids=["authorization_code", "refresh_token", "client_credentials", "unsupported-grant"],
)
def test_token_requests_over_plain_http_are_invalid_requests(http, auth_context, grant):
    """RFC 6749 section 3.2: "Since requests to the token endpoint result in the transmission of
    clear-text credentials (in the HTTP request and response), the authorization server MUST require
    the use of TLS". Section 5.2: invalid_request is for a request that "is otherwise malformed";
    every grant answers it (400, JSON), none a 500."""
    client = make_client()

    response = http.post("/token", data=grant, headers=basic(client.client.client_id, client.client_secret), base_url=PLAIN_HTTP)

    assert response.status_code == 400
    assert response.json["error"] == "invalid_request"
    assert "HTTPS is required" in response.json["error_description"]


@pytest.mark.parametrize("path", ["/revoke", "/introspect"])
def test_revocation_and_introspection_over_plain_http_are_invalid_requests(http, auth_context, path):
    """RFC 7009 section 2: the revocation endpoint's URL "MUST conform to the rules given in
    [RFC6749], Section 3.1. Clients MUST verify that the URL is an HTTPS URL"; RFC 7662 section 4
    holds the introspection endpoint to TLS as well. Both carry client credentials and tokens, so
    both keep the token endpoint's rule (RFC 6749 section 3.2): over plain http, invalid_request."""
    client = make_client()

    response = http.post(path, data={"token": "a-token"}, headers=basic(client.client.client_id, client.client_secret), base_url=PLAIN_HTTP)

    assert response.status_code == 400
    assert response.json["error"] == "invalid_request"
    assert "HTTPS is required" in response.json["error_description"]


def test_registration_over_plain_http_is_refused_and_registers_nothing(http, auth_context):
    """RFC 7591 section 5: "the authorization server MUST require the use of a transport-layer
    security mechanism when sending requests to the registration endpoint" (the response carries
    the client's secret and registration token)."""
    name = f"plain http {secrets.token_hex(4)}"
    body = {"client_name": name, "redirect_uris": ["http://127.0.0.1:8765/cb"], "token_endpoint_auth_method": "none"}

    registered = http.post("/register", json=body, base_url=PLAIN_HTTP)
    managed = http.get("/register/some-client", headers={"Authorization": "Bearer a-token"}, base_url=PLAIN_HTTP)

    for response in (registered, managed):
        assert response.status_code == 400
        assert response.json["error"] == "invalid_request"
        assert "HTTPS is required" in response.json["error_description"]
    assert db.session.scalar(select(Client).where(Client.client_name == name)) is None


def test_the_authorization_endpoint_over_plain_http_is_an_error_page(http):
    """RFC 6749 section 3.1: "the authorization server MUST require the use of TLS as described in
    Section 1.6 when sending requests to the authorization endpoint". A person's browser gets our
    HTML page saying so, never a redirect carrying a code."""
    response = http.get("/authorize?response_type=code&client_id=x", base_url=PLAIN_HTTP)

    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "text/html" in response.headers["Content-Type"]
    assert "HTTPS is required" in response.get_data(as_text=True)


@pytest.mark.parametrize("base_url", ["https://auth.example", "http://127.0.0.1:8000", "http://localhost:8000"])
def test_https_and_loopback_http_reach_the_grant(http, auth_context, base_url):
    """TLS, or plain http to a loopback host (the development issuer is http://127.0.0.1:8000), get
    past the transport check to the grant itself: here, a client without the refresh_token grant is
    unauthorized_client."""
    client = make_client()
    form = {"grant_type": "refresh_token", "refresh_token": "not-a-refresh-token"}

    response = http.post("/token", data=form, headers=basic(client.client.client_id, client.client_secret), base_url=base_url)

    assert response.status_code == 400
    assert response.json["error"] == "unauthorized_client"
