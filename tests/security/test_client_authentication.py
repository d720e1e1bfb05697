"""Client authentication at the token endpoint: whatever the Authorization header holds, a failure
is the RFC's invalid_client, never a 500."""

from __future__ import annotations

import base64

import pytest


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
