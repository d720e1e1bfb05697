"""Token introspection (RFC 7662) at POST /introspect: who may ask, and what each token gets."""

from __future__ import annotations

import base64
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from authserver.clients import NewClient, disable_client
from authserver.users import disable_user
from tests.authserver.test_revocation_endpoint import access_token, basic, claims_of, made_up_tokens, refresh
from tests.factories import make_app_client, make_client, make_person_tokens, make_user

INACTIVE = {"active": False}


@pytest.fixture
def http(auth_app: Flask) -> FlaskClient:
    return auth_app.test_client()


@pytest.fixture
def machine(auth_context) -> NewClient:
    return make_client(scope="posts:read")


@pytest.fixture
def resource_server(auth_context) -> NewClient:
    """A resource server's own credentials: `drawbridge clients create --introspect`."""
    return make_client(scope="", may_introspect=True)


def introspect(http: FlaskClient, client: NewClient, **form: str):
    return http.post("/introspect", data=form, headers=basic(client.client.client_id, client.client_secret))


def confidential(settings) -> tuple[NewClient, dict[str, str]]:
    """A confidential client acting for a person, and the tokens a consent gave it."""
    app = make_app_client(public=False)
    client = NewClient(client=app.client, client_secret=app.client_secret or "")
    return client, make_person_tokens(settings, app.client.client_id)


def test_a_client_introspects_its_own_access_token(http, machine, settings):
    """RFC 7662 section 2.2: "active REQUIRED" and the optional scope, client_id, sub, exp, iat,
    iss, aud, jti and token_type (RFC 6749 section 7.1's "Bearer")."""
    token = access_token(http, machine)
    claims = claims_of(token)

    response = introspect(http, machine, token=token)

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Type"] == "application/json"
    assert response.json == {
        "active": True,
        "scope": "posts:read",
        "client_id": machine.client.client_id,
        "sub": machine.client.client_id,
        "exp": claims["exp"],
        "iat": claims["iat"],
        "iss": settings.issuer,
        "aud": settings.resource_url,
        "jti": claims["jti"],
        "token_type": "Bearer",
    }


def test_a_client_introspects_its_own_refresh_token(http, settings, auth_context):
    """RFC 7662 section 2.1: "For refresh tokens, this is the refresh_token value returned from the
    token endpoint"; its grant's scope, person and resource."""
    client, tokens = confidential(settings)

    body = introspect(http, client, token=tokens["refresh_token"]).json

    assert body["active"] is True
    assert body["token_type"] == "refresh_token"
    assert body["client_id"] == client.client.client_id
    assert body["scope"] == "posts:read"
    assert body["aud"] == settings.resource_url
    assert body["iss"] == settings.issuer
    assert body["sub"] == claims_of(tokens["access_token"])["sub"]
    assert body["exp"] > body["iat"] > time.time() - 60


def test_a_resource_server_introspects_any_access_token_but_no_refresh_token(http, machine, resource_server, settings, auth_context):
    """RFC 7662 section 4: the server "MUST require authentication of protected resources that need
    to access the introspection endpoint and SHOULD require protected resources to be specifically
    authorized to call the introspection endpoint". A resource server an operator marked may see
    every access token; refresh tokens are never sent to a resource server, so it sees none."""
    token = access_token(http, machine)
    _, tokens = confidential(settings)

    assert introspect(http, resource_server, token=token).json["active"] is True
    assert introspect(http, resource_server, token=tokens["access_token"]).json["active"] is True
    assert introspect(http, resource_server, token=tokens["refresh_token"]).json == INACTIVE


def test_a_client_sees_only_its_own_tokens(http, machine, settings, auth_context):
    """RFC 7662 section 2.2: "If the introspection call is properly authorized but the token is not
    active, does not exist on this server, or the protected resource is not allowed to introspect
    this particular token, then the authorization server MUST return an introspection response
    with the "active" field set to "false"". Section 4: "the authorization server MAY respond
    differently to different protected resources making the same request"."""
    others = make_client(scope="posts:read")
    _, tokens = confidential(settings)

    for token in (access_token(http, others), tokens["access_token"], tokens["refresh_token"]):
        assert introspect(http, machine, token=token).json == INACTIVE


@pytest.mark.parametrize(
    "kind", ["unknown", "jwt-shaped", "signed-by-another-key", "another-issuer", "not-an-access-token", "expired", "huge", "non-ascii"]
)
def test_a_token_we_did_not_issue_or_that_expired_is_inactive_and_nothing_more(http, machine, settings, kind):
    """RFC 7662 section 2.2: an inactive token gets "active": false, and "the authorization server
    SHOULD NOT include any additional information about an inactive token, including why the token
    is inactive"; malformed input is an inactive token, never an error or a 500."""
    token = made_up_tokens(settings, machine.client.client_id)[kind]

    response = introspect(http, machine, token=token)

    assert response.status_code == 200
    assert response.json == INACTIVE


def test_a_revoked_access_token_is_inactive(http, machine):
    """RFC 7662 section 2.2: active is false for a token "revoked"; as soon as RFC 7009 revocation
    answers, introspection agrees with the resource server."""
    token = access_token(http, machine)
    assert http.post("/revoke", data={"token": token}, headers=basic(machine.client.client_id, machine.client_secret)).status_code == 200

    assert introspect(http, machine, token=token).json == INACTIVE


def test_a_used_or_revoked_refresh_token_is_inactive(http, settings, auth_context):
    """OAuth 2.1 section 4.3.1: a rotated refresh token is spent; RFC 7009 section 2.1: revoking a
    refresh token invalidates the access tokens of its grant."""
    client, tokens = confidential(settings)
    headers = basic(client.client.client_id, client.client_secret)
    rotated = http.post("/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, headers=headers)
    assert rotated.status_code == 200

    assert introspect(http, client, token=tokens["refresh_token"]).json == INACTIVE
    fresh = rotated.json
    assert introspect(http, client, token=fresh["refresh_token"]).json["active"] is True

    assert introspect(http, client, token=fresh["refresh_token"], token_type_hint="access_token").json["active"] is True
    http.post("/revoke", data={"token": fresh["refresh_token"]}, headers=headers)
    assert introspect(http, client, token=fresh["refresh_token"]).json == INACTIVE
    assert introspect(http, client, token=fresh["access_token"]).json == INACTIVE
    assert introspect(http, client, token=tokens["access_token"]).json == INACTIVE


def test_tokens_of_a_disabled_client_or_person_are_inactive(http, machine, resource_server, settings, auth_context):
    """RFC 7662 section 2.2: active is false once the token is "revoked ... or otherwise invalid";
    taking access back from a client or a person (authserver/cutoffs.py) does that."""
    token = access_token(http, machine)
    person = make_user()
    app = make_app_client(public=True)
    tokens = make_person_tokens(settings, app.client.client_id, person=person)
    assert introspect(http, resource_server, token=tokens["access_token"]).json["active"] is True

    disable_client(machine.client.client_id)
    disable_user(person.email)

    assert introspect(http, resource_server, token=token).json == INACTIVE
    assert introspect(http, resource_server, token=tokens["access_token"]).json == INACTIVE
    assert refresh(http, app.client.client_id, tokens["refresh_token"]).json["error"] == "invalid_grant"


@pytest.mark.parametrize("credentials", ["public-client", "wrong-secret", "unknown-client", "none", "not-utf8"])
def test_who_cannot_authenticate_may_not_introspect(http, machine, settings, credentials, auth_context):
    """RFC 7662 section 2.1: "the endpoint MUST also require some form of authorization to access
    this endpoint"; section 4: it "MUST require authentication". A public client has no credentials,
    so it may not introspect, not even its own tokens: 401 invalid_client (RFC 6749 section 5.2),
    with the Basic challenge."""
    app = make_app_client(public=True)
    tokens = make_person_tokens(settings, app.client.client_id)
    form = {"token": tokens["access_token"]}
    headers: dict[str, str] = {}
    if credentials == "public-client":
        form["client_id"] = app.client.client_id
    elif credentials == "wrong-secret":
        headers = basic(machine.client.client_id, "wrong")
    elif credentials == "unknown-client":
        headers = basic("no-such-client", machine.client_secret)
    elif credentials == "not-utf8":
        headers = {"Authorization": "Basic " + base64.b64encode(b"\xff:\xfe").decode()}

    response = http.post("/introspect", data=form, headers=headers)

    assert response.status_code == 401
    assert response.json == {"error": "invalid_client", "error_description": "Client authentication failed."}
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    assert "active" not in response.json


@pytest.mark.parametrize(
    "form", [{}, {"token": ""}, {"token": ["one", "two"]}, {"token_type_hint": "access_token"}], ids=["no-token", "empty", "repeated", "hint-only"]
)
def test_a_request_without_exactly_one_token_is_invalid_request(http, machine, form):
    """RFC 7662 section 2.1: token "REQUIRED"; RFC 6749 section 3.1: parameters without a value
    are omitted, and none may be repeated. Section 2.3: errors as RFC 6749 section 5.2 (400)."""
    response = introspect(http, machine, **form)

    assert (response.status_code, response.json["error"]) == (400, "invalid_request")
    assert response.headers["Cache-Control"] == "no-store"


def test_only_a_post_with_a_form_body_is_served(http, machine):
    """RFC 7662 section 2.1: "The protected resource calls the introspection endpoint using an HTTP
    POST [RFC7231] request with parameters sent as "application/x-www-form-urlencoded" data"."""
    token = access_token(http, machine)
    headers = basic(machine.client.client_id, machine.client_secret)

    assert http.get("/introspect", headers=headers).status_code == 405
    as_json = http.post("/introspect", json={"token": token}, headers=headers)
    assert (as_json.status_code, as_json.json["error"]) == (400, "invalid_request")
    nul = http.post("/introspect", data=b"token=a%00b", headers={**headers, "Content-Type": "application/x-www-form-urlencoded"})
    assert (nul.status_code, nul.json["error"]) == (400, "invalid_request")
