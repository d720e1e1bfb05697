"""Token revocation (RFC 7009) at POST /revoke: what is revoked, and the exact answers.

That a revoked token is then refused at the MCP server, in both deployment shapes, is tested end to
end in tests/security/test_taking_access_back.py.
"""

from __future__ import annotations

import base64
import json
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from authserver.clients import NewClient, disable_client
from authserver.oauth.refresh_tokens import REVOCATION_MARGIN_SECONDS
from shared import redis as drawbridge_redis
from shared import revocation
from shared import services as shared_services
from shared.settings import Settings
from tests.factories import foreign_key, make_app_client, make_client, make_person_tokens, sign, valid_claims


@pytest.fixture
def http(auth_app: Flask) -> FlaskClient:
    return auth_app.test_client()


@pytest.fixture
def machine(auth_context) -> NewClient:
    return make_client(scope="posts:read")


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def access_token(http: FlaskClient, client: NewClient) -> str:
    response = http.post("/token", data={"grant_type": "client_credentials"}, headers=basic(client.client.client_id, client.client_secret))
    assert response.status_code == 200, response.json
    return response.json["access_token"]


def revoke(http: FlaskClient, client: NewClient, **form: str):
    return http.post("/revoke", data=form, headers=basic(client.client.client_id, client.client_secret))


def claims_of(token: str) -> dict:
    """A token's claims, unverified (the tests' own tokens)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def voided(auth_app: Flask, token: str) -> bool:
    """Whether the resource server's check (the same entries, shared/revocation.py) refuses it."""
    claims = claims_of(token)
    entries = revocation.entries_of(claims["jti"], claims["client_id"], claims["sub"], claims.get("grant_id"))
    return revocation.for_client(shared_services.of(auth_app).redis).any_revoked(entries, claims["iat"])


def refresh(http: FlaskClient, client_id: str, refresh_token: str):
    return http.post("/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id})


def test_revoking_an_access_token_voids_it_until_it_expires(http, auth_app, machine):
    """RFC 7009 section 2.2: "The authorization server responds with HTTP status code 200 if the
    token has been revoked successfully or if the client submitted an invalid token". The token's
    jti stays in the revocation set as long as the resource server could accept the token (its
    expiry and the clock leeway); the client's other tokens are untouched."""
    token = access_token(http, machine)
    other = access_token(http, machine)

    response = revoke(http, machine, token=token)

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert voided(auth_app, token)
    assert not voided(auth_app, other)
    key = drawbridge_redis.key("revoked", revocation.TOKEN, claims_of(token)["jti"])
    expires_at = shared_services.of(auth_app).redis.expiretime(key)
    assert expires_at == claims_of(token)["exp"] + REVOCATION_MARGIN_SECONDS


def test_the_secret_may_be_sent_in_the_body(http, auth_app, machine):
    """RFC 7009 section 2.1: the client authenticates as at the token endpoint (RFC 6749 section
    2.3.1 allows client_secret_post)."""
    token = access_token(http, machine)

    response = http.post("/revoke", data={"token": token, "client_id": machine.client.client_id, "client_secret": machine.client_secret})

    assert response.status_code == 200
    assert voided(auth_app, token)


def test_revoking_a_refresh_token_ends_its_grant_and_its_access_tokens(http, auth_app, settings, auth_context):
    """RFC 7009 section 2.1: "If the particular token is a refresh token and the authorization
    server supports the revocation of access tokens, then the authorization server SHOULD also
    invalidate all access tokens based on the same authorization grant"."""
    app = make_app_client(public=False)
    tokens = make_person_tokens(settings, app.client.client_id)
    client = NewClient(client=app.client, client_secret=app.client_secret or "")

    response = revoke(http, client, token=tokens["refresh_token"], token_type_hint="refresh_token")

    assert response.status_code == 200
    assert voided(auth_app, tokens["access_token"])
    refused = http.post(
        "/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, headers=basic(app.client.client_id, client.client_secret)
    )
    assert (refused.status_code, refused.json["error"]) == (400, "invalid_grant")


def test_a_public_client_revokes_by_its_client_id(http, auth_app, settings, auth_context):
    """RFC 7009 section 2.1: "The client also includes its authentication credentials as described
    in Section 2.3. of [RFC6749]"; a public client has none and identifies itself by client_id
    (RFC 6749 section 3.2.1)."""
    app = make_app_client(public=True)
    tokens = make_person_tokens(settings, app.client.client_id)

    response = http.post("/revoke", data={"token": tokens["refresh_token"], "client_id": app.client.client_id})

    assert response.status_code == 200
    assert voided(auth_app, tokens["access_token"])
    assert refresh(http, app.client.client_id, tokens["refresh_token"]).json["error"] == "invalid_grant"


def test_revoking_a_persons_access_token_leaves_the_grant(http, auth_app, settings, auth_context):
    """RFC 7009 section 2.1: for an access token the server "MAY revoke the respective refresh
    token as well"; we revoke the access token only, so the person's client refreshes on."""
    app = make_app_client(public=True)
    tokens = make_person_tokens(settings, app.client.client_id)

    response = http.post("/revoke", data={"token": tokens["access_token"], "client_id": app.client.client_id})

    assert response.status_code == 200
    assert voided(auth_app, tokens["access_token"])
    assert refresh(http, app.client.client_id, tokens["refresh_token"]).status_code == 200


@pytest.mark.parametrize("hint", ["access_token", "refresh_token", "no_such_type", None])
def test_the_hint_is_only_a_hint(http, auth_app, settings, auth_context, hint):
    """RFC 7009 section 2.1: "If the server is unable to locate the token using the given hint, it
    MUST extend its search across all of its supported token types"; a wrong or unknown hint never
    stops a revocation. Section 2.2.1's unsupported_token_type is for a token type the server
    cannot revoke, and we revoke both."""
    app = make_app_client(public=True)
    tokens = make_person_tokens(settings, app.client.client_id)
    hinted = {"token_type_hint": hint} if hint else {}

    revoked_access = http.post("/revoke", data={"token": tokens["access_token"], "client_id": app.client.client_id, **hinted})
    revoked_refresh = http.post("/revoke", data={"token": tokens["refresh_token"], "client_id": app.client.client_id, **hinted})

    assert (revoked_access.status_code, revoked_refresh.status_code) == (200, 200)
    assert voided(auth_app, tokens["access_token"])
    assert refresh(http, app.client.client_id, tokens["refresh_token"]).json["error"] == "invalid_grant"


def test_another_clients_token_is_left_alone_and_the_answer_is_200(http, auth_app, machine, settings, auth_context):
    """RFC 7009 section 2.1: the server "verifies whether the token was issued to the client making
    the revocation request"; section 2.2: "invalid tokens do not cause an error response". Another
    client's token is not this client's to revoke: 200, and nothing is revoked."""
    owner = make_client(scope="posts:read")
    token = access_token(http, owner)
    app = make_app_client(public=True)
    tokens = make_person_tokens(settings, app.client.client_id)

    answers = [revoke(http, machine, token=t) for t in (token, tokens["access_token"], tokens["refresh_token"])]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert not voided(auth_app, token)
    assert not voided(auth_app, tokens["access_token"])
    assert refresh(http, app.client.client_id, tokens["refresh_token"]).status_code == 200


def made_up_tokens(settings: Settings, client_id: str) -> dict[str, str]:
    mine = valid_claims(settings, client_id=client_id, sub=client_id)
    return {
        "unknown": "not-a-token-we-issued",
        "jwt-shaped": "a.b.c",
        "signed-by-another-key": sign(mine, foreign_key()),
        "another-issuer": sign({**mine, "iss": "https://elsewhere.example"}),
        "not-an-access-token": sign(mine, typ="JWT"),
        "expired": sign({**mine, "iat": int(time.time()) - 900, "exp": int(time.time()) - 300}),
        "huge": "x" * 60_000,
        "non-ascii": "tok\u00e9n\u2603",
    }


@pytest.mark.parametrize(
    "kind", ["unknown", "jwt-shaped", "signed-by-another-key", "another-issuer", "not-an-access-token", "expired", "huge", "non-ascii"]
)
def test_a_token_we_did_not_issue_or_that_is_dead_is_answered_200(http, auth_app, machine, settings, kind):
    """RFC 7009 section 2.2: "Note: invalid tokens do not cause an error response since the client
    cannot handle such an error in a reasonable way. Moreover, the purpose of the revocation
    request, invalidating the particular token, is already achieved"; nothing a client sends is a 500. A token is
    believed only once its signature is ours and its issuer is us: a made-up one voids nothing."""
    token = made_up_tokens(settings, machine.client.client_id)[kind]

    response = revoke(http, machine, token=token)

    assert response.status_code == 200
    assert response.json == {}
    if kind in ("signed-by-another-key", "another-issuer", "not-an-access-token"):
        assert not voided(auth_app, token)


def test_revoking_twice_is_answered_200_twice(http, machine):
    """RFC 7009 section 2.2: a revoked token is an invalid one, which causes no error response."""
    token = access_token(http, machine)

    assert [revoke(http, machine, token=token).status_code for _ in range(2)] == [200, 200]


@pytest.mark.parametrize(
    "form",
    [{}, {"token": ""}, {"token": ["one", "two"]}, {"token": "t", "token_type_hint": ["access_token", "refresh_token"]}, {"token_type_hint": "access_token"}],
    ids=["no-token", "empty-token", "repeated-token", "repeated-hint", "hint-only"],
)
def test_a_request_without_exactly_one_token_is_invalid_request(http, machine, form):
    """RFC 7009 section 2.1: token is "REQUIRED"; RFC 6749 section 3.1: "Parameters sent without a
    value MUST be treated as if they were omitted from the request" and "Request and response
    parameters MUST NOT be included more than once". Section 2.2.1: the error response is RFC 6749
    section 5.2's: 400 invalid_request."""
    response = revoke(http, machine, **form)

    assert response.status_code == 400
    assert response.json["error"] == "invalid_request"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "credentials",
    ["wrong-secret", "unknown-client", "none", "confidential-without-secret", "not-utf8", "nul-in-client-id", "disabled"],
)
def test_a_client_that_fails_to_authenticate_gets_401_invalid_client(http, machine, credentials, auth_context):
    """RFC 7009 section 2.1: "The authorization server first validates the client credentials (in
    case of a confidential client)"; RFC 6749 section 5.2: invalid_client, "Client authentication
    failed (e.g., unknown client, no client authentication included, or unsupported authentication
    method)", answered 401 with a WWW-Authenticate challenge. Every failure reads the same."""
    client_id, secret = machine.client.client_id, machine.client_secret
    headers: dict[str, str] = {}
    form = {"token": "t"}
    if credentials == "wrong-secret":
        headers = basic(client_id, "wrong")
    elif credentials == "unknown-client":
        headers = basic("no-such-client", secret)
    elif credentials == "confidential-without-secret":
        form["client_id"] = client_id
    elif credentials == "not-utf8":
        headers = {"Authorization": "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode()}
    elif credentials == "nul-in-client-id":
        headers = basic(client_id + "\x00", secret)
    elif credentials == "disabled":
        disable_client(client_id)
        headers = basic(client_id, secret)

    response = http.post("/revoke", data=form, headers=headers)

    assert response.status_code == 401
    assert response.json == {"error": "invalid_client", "error_description": "Client authentication failed."}
    assert response.headers["WWW-Authenticate"].startswith("Basic ")


def test_only_a_post_with_a_form_body_is_served(http, machine):
    """RFC 7009 section 2: "The client requests the revocation of a particular token by making an
    HTTP POST request to the token revocation endpoint URL"; section 2.1: it sends its parameters
    "using the "application/x-www-form-urlencoded" format in the HTTP request entity-body"."""
    token = access_token(http, machine)
    headers = basic(machine.client.client_id, machine.client_secret)

    assert http.get("/revoke", headers=headers).status_code == 405
    as_json = http.post("/revoke", json={"token": token}, headers=headers)
    assert (as_json.status_code, as_json.json["error"]) == (400, "invalid_request")


@pytest.mark.parametrize("body", [b"token=a%00b", b"token=a\x00b", b"token=%ff%fe", b"token=\xff"], ids=["escaped-nul", "raw-nul", "escaped-not-utf8", "raw-not-utf8"])
def test_a_form_that_is_not_text_is_invalid_request(http, machine, body):
    """RFC 6749 section 5.2: invalid_request, "includes an unsupported parameter value ... or is
    otherwise malformed", never a 500 (authserver/unstorable_input.py)."""
    headers = {**basic(machine.client.client_id, machine.client_secret), "Content-Type": "application/x-www-form-urlencoded"}

    response = http.post("/revoke", data=body, headers=headers)

    assert (response.status_code, response.json["error"]) == (400, "invalid_request")
