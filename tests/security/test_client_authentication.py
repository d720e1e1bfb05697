"""Client authentication at the token endpoint: whatever the Authorization header holds, a failure
is the RFC's invalid_client, never a 500."""

from __future__ import annotations

import base64

import pytest

from tests.factories import make_app_client


@pytest.mark.parametrize(
    "grant",
    [
        {"grant_type": "authorization_code", "code": "a-code", "redirect_uri": "http://127.0.0.1:8765/cb", "code_verifier": "v" * 43},
        {"grant_type": "refresh_token", "refresh_token": "a-refresh-token"},
        {"grant_type": "client_credentials"},
    ],
    ids=["authorization_code", "refresh_token", "client_credentials"],
)
def test_basic_credentials_that_are_not_utf8_are_invalid_client(auth_app, grant):
    """RFC 6749 section 5.2: "invalid_client: Client authentication failed ... If the client attempted
    to authenticate via the "Authorization" request header field, the authorization server MUST
    respond with an HTTP 401 (Unauthorized) status code and include the "WWW-Authenticate" response
    header field". RFC 7617 section 2.1: the credentials are UTF-8; bytes that are not name no client."""
    not_utf8 = base64.b64encode(b"\xff\xfe-client:\xc3\x28-secret").decode()

    response = auth_app.test_client().post("/token", data=grant, headers={"Authorization": f"Basic {not_utf8}"})

    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize(
    "grant",
    [
        {"grant_type": "authorization_code", "code": "a-code", "redirect_uri": "http://127.0.0.1:8765/callback", "code_verifier": "v" * 43},
        {"grant_type": "refresh_token", "refresh_token": "a-refresh-token"},
        {"grant_type": "client_credentials"},
    ],
    ids=["authorization_code", "refresh_token", "client_credentials"],
)
def test_an_unknown_client_and_a_wrong_secret_read_the_same(auth_app, auth_context, grant):
    """RFC 6749 section 10.10 asks that credentials not be guessable, and a server that says "no
    such client" to one and "wrong secret" to the other tells a guesser which ids exist. Both are
    the same 401 invalid_client; which it was is the detail, in the log only."""
    registered = make_app_client(public=False)
    http = auth_app.test_client()

    unknown = http.post("/token", data=grant, headers=basic("no-such-client", "a-secret"))
    wrong_secret = http.post("/token", data=grant, headers=basic(registered.client.client_id, "not-its-secret"))

    assert unknown.status_code == wrong_secret.status_code == 401
    assert unknown.json == wrong_secret.json == {"error": "invalid_client", "error_description": "Client authentication failed."}


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}
