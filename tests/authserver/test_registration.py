"""Dynamic client registration (RFC 7591) and its management (RFC 7592)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

import authserver
from authserver.models import Client
from authserver.oauth import initial_access_tokens
from shared.cli import cli, create_cli_app
from shared.db import db, utcnow
from tests.factories import register

pytestmark = pytest.mark.usefixtures("live_services")

PUBLIC = {
    "client_name": "Claude-ish",
    "redirect_uris": ["http://127.0.0.1:33418/callback"],
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "token_endpoint_auth_method": "none",
}


def post(settings, body) -> httpx.Response:
    return httpx.post(f"{settings.issuer}/register", json=body, timeout=10)


def test_a_public_client_registers_and_gets_no_secret(settings):
    response = post(settings, {**PUBLIC, "unknown_field": "ignored", "application_type": "native"})

    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["client_id"]
    assert "client_secret" not in body
    assert body["token_endpoint_auth_method"] == "none"
    assert body["redirect_uris"] == PUBLIC["redirect_uris"]
    assert body["grant_types"] == ["authorization_code", "refresh_token"]
    assert body["application_type"] == "native"
    assert "unknown_field" not in body
    assert body["registration_access_token"]
    assert body["registration_client_uri"] == f"{settings.issuer}/register/{body['client_id']}"


def test_a_confidential_client_gets_a_secret_that_works(settings, auth_context):
    # A machine client needs an operator's initial access token (tests/security/test_registration_policy.py).
    issued = initial_access_tokens.issue("posts:read posts:write", ttl_seconds=60, uses=1)
    response = httpx.post(
        f"{settings.issuer}/register",
        json={"grant_types": ["client_credentials"], "response_types": [], "scope": "posts:read"},
        headers={"Authorization": f"Bearer {issued.token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    body = response.json()

    token = httpx.post(
        f"{settings.issuer}/token",
        data={"grant_type": "client_credentials"},
        auth=(body["client_id"], body["client_secret"]),
        timeout=10,
    )

    assert body["client_secret_expires_at"] == 0
    assert token.status_code == 200
    assert token.json()["scope"] == "posts:read"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"redirect_uris": ["http://example.com/callback"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://app.example/cb#frag"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["javascript:alert(1)"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["data:text/html,hi"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://user:pw@app.example/cb"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["/relative/callback"]}, "invalid_redirect_uri"),
        ({"redirect_uris": []}, "invalid_redirect_uri"),
        ({"redirect_uris": "http://127.0.0.1/cb"}, "invalid_redirect_uri"),
        ({"redirect_uris": ['https://app.example/"quoted"']}, "invalid_redirect_uri"),
        ({"token_endpoint_auth_method": "private_key_jwt"}, "invalid_client_metadata"),
        ({"grant_types": ["password"]}, "invalid_client_metadata"),
        ({"grant_types": ["refresh_token"]}, "invalid_client_metadata"),
        ({"grant_types": ["client_credentials"], "response_types": []}, "invalid_client_metadata"),
        ({"response_types": ["token"]}, "invalid_client_metadata"),
        ({"scope": "posts:read admin:all"}, "invalid_client_metadata"),
        ({"client_name": ""}, "invalid_client_metadata"),
        ({"client_uri": "http://insecure.example"}, "invalid_client_metadata"),
    ],
    ids=[
        "http-not-loopback",
        "fragment",
        "javascript",
        "data",
        "userinfo",
        "relative",
        "none-for-code-grant",
        "not-a-list",
        "quotes-are-not-rfc3986-but-the-error-is-sent",
        "unsupported-auth-method",
        "unknown-grant",
        "refresh-without-code",
        "public-client-credentials",
        "implicit",
        "unknown-scope",
        "empty-name",
        "http-client-uri",
    ],
)
def test_bad_metadata_gets_the_rfc7591_error(settings, change, error):
    response = post(settings, {**PUBLIC, **change})

    assert response.status_code == 400
    assert response.json()["error"] == error
    assert response.json()["error_description"]


@pytest.mark.parametrize("body", [[1, 2], "text", None], ids=["array", "string", "empty"])
def test_a_body_that_is_not_an_object_is_invalid_metadata(settings, body):
    response = httpx.post(f"{settings.issuer}/register", content=b"" if body is None else httpx.Request("POST", "/", json=body).content, headers={"Content-Type": "application/json"}, timeout=10)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"


def test_registration_answers_browser_clients_with_cors(settings):
    response = post(settings, PUBLIC)

    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_the_registration_token_reads_updates_and_deletes(settings):
    body = register(settings.issuer)
    uri, headers = body["registration_client_uri"], {"Authorization": f"Bearer {body['registration_access_token']}"}

    read = httpx.get(uri, headers=headers, timeout=10)
    updated = httpx.put(uri, headers=headers, json={**PUBLIC, "client_id": body["client_id"], "client_name": "Renamed"}, timeout=10)
    deleted = httpx.delete(uri, headers=headers, timeout=10)
    after = httpx.get(uri, headers=headers, timeout=10)

    assert read.status_code == 200 and read.json()["client_id"] == body["client_id"]
    assert "registration_access_token" not in read.json()
    assert updated.status_code == 200 and updated.json()["client_name"] == "Renamed"
    assert deleted.status_code == 204
    assert after.status_code == 401


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", "Basic abc"], ids=["none", "wrong", "not-bearer"])
def test_management_without_the_registration_token_is_401(settings, authorization):
    body = register(settings.issuer)
    headers = {"Authorization": authorization} if authorization else {}

    response = httpx.get(body["registration_client_uri"], headers=headers, timeout=10)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


def test_an_update_may_not_change_the_client_id_or_auth_method(settings):
    body = register(settings.issuer)
    uri, headers = body["registration_client_uri"], {"Authorization": f"Bearer {body['registration_access_token']}"}

    other_id = httpx.put(uri, headers=headers, json={**PUBLIC, "client_id": "other"}, timeout=10)
    other_method = httpx.put(
        uri, headers=headers, json={**PUBLIC, "client_id": body["client_id"], "token_endpoint_auth_method": "client_secret_basic"}, timeout=10
    )

    assert other_id.json()["error"] == "invalid_client_metadata"
    assert other_method.json()["error"] == "invalid_client_metadata"


def test_registration_is_rate_limited_per_ip(settings, redis_client):
    app = authserver.create_app(replace(settings, registrations_per_ip_per_hour=3))
    http = app.test_client()

    answers = [http.post("/register", json=PUBLIC).status_code for _ in range(4)]

    assert answers == [201, 201, 201, 429]
    refused = http.post("/register", json=PUBLIC)
    assert refused.headers["Retry-After"] == "3600"
    assert refused.json["error"] == "invalid_request"


def test_prune_removes_registered_clients_unused_for_the_set_time(settings, auth_context):
    stale, fresh = register(settings.issuer), register(settings.issuer)
    stale_row = db.session.scalar(select(Client).where(Client.client_id == stale["client_id"]))
    stale_row.created_at = utcnow() - timedelta(days=91)
    db.session.commit()
    runner = create_cli_app(settings).test_cli_runner()

    result = runner.invoke(cli, ["clients", "prune", "--unused-days", "90"], catch_exceptions=False)

    assert result.exit_code == 0
    db.session.expire_all()
    remaining = set(db.session.scalars(select(Client.client_id)))
    assert stale["client_id"] not in remaining
    assert fresh["client_id"] in remaining
