"""The client_credentials grant (RFC 6749 section 4.4) issuing RFC 9068 JWT access tokens."""

from __future__ import annotations

import base64
import json
from dataclasses import replace

import httpx
import pytest
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet

import authserver
from authserver.client_specs import WEB_APP
from authserver.clients import NewClient
from authserver.cutoffs import CLIENT_CACHE_SECONDS
from authserver.oauth import client_lookup
from shared import cache
from shared.db import db, utcnow
from shared.settings import Settings
from tests import live
from tests.factories import make_client
from tests.staleness import Clock, arriving_mid_query


@pytest.fixture
def client(auth_context) -> NewClient:
    """A client that exists in this test's transaction only (rolled back at its end)."""
    return make_client(scope="posts:read posts:write")


@pytest.fixture
def committed_client(commits, auth_context) -> NewClient:
    """A client that another app, a live server or another connection can read."""
    return make_client(scope="posts:read posts:write")


@pytest.fixture
def http(auth_app) -> FlaskClient:
    return auth_app.test_client()


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def request_token(http: FlaskClient, client: NewClient, **form: str):
    headers = basic(client.client.client_id, client.client_secret)
    return http.post("/token", data={"grant_type": "client_credentials", **form}, headers=headers)


def decode(http: FlaskClient, token: str):
    return jwt.decode(token, KeySet.import_key_set(http.get("/jwks").json), algorithms=["ES256"])


def test_token_is_an_rfc9068_jwt_bound_to_the_requested_resource(http, client, settings: Settings):
    response = request_token(http, client, scope="posts:read", resource=settings.resource_url)

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "posts:read"
    assert body["expires_in"] == settings.access_token_ttl_seconds
    token = decode(http, body["access_token"])
    assert token.header["typ"] == "at+jwt"
    assert token.header["alg"] == "ES256"
    assert token.header["kid"] in {k["kid"] for k in http.get("/jwks").json["keys"]}
    claims = token.claims
    assert claims["iss"] == settings.issuer
    assert claims["aud"] == settings.resource_url
    assert claims["sub"] == claims["client_id"] == client.client.client_id
    assert claims["scope"] == "posts:read"
    assert claims["exp"] - claims["iat"] == settings.access_token_ttl_seconds
    assert len(claims["jti"]) >= 16


def test_no_scope_requested_grants_every_scope_of_the_client(http, client):
    response = request_token(http, client)

    assert response.status_code == 200
    assert response.json["scope"] == "posts:read posts:write"


def test_no_resource_means_the_default_resource(http, client, settings: Settings):
    """RFC 9068 section 3: without a resource the server MUST use a default resource indicator in aud."""
    response = request_token(http, client)

    assert decode(http, response.json["access_token"]).claims["aud"] == settings.resource_url


def test_resource_scheme_and_host_compare_case_insensitively(http, client, settings: Settings):
    shouting = settings.resource_url.replace("http://127.0.0.1", "HTTP://127.0.0.1")
    response = request_token(http, client, resource=shouting)

    assert decode(http, response.json["access_token"]).claims["aud"] == settings.resource_url


def test_secret_in_the_body_works_too(http, client):
    response = http.post(
        "/token",
        data={"grant_type": "client_credentials", "client_id": client.client.client_id, "client_secret": client.client_secret},
    )

    assert response.status_code == 200


def test_every_token_has_its_own_jti(http, client):
    tokens = [request_token(http, client).json["access_token"] for _ in range(3)]

    assert len({decode(http, t).claims["jti"] for t in tokens}) == 3


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"client_id": "no-such-client"}, 401, "invalid_client"),
        ({"secret": "wrong-secret"}, 401, "invalid_client"),
        ({"secret": ""}, 401, "invalid_client"),
        ({"form": {"grant_type": "password"}}, 400, "unsupported_grant_type"),
        ({"form": {"grant_type": ""}}, 400, "unsupported_grant_type"),
        ({"form": {"scope": "posts:read no:such"}}, 400, "invalid_scope"),
        ({"form": {"resource": "https://elsewhere.example/mcp"}}, 400, "invalid_target"),
        ({"form": {"resource": "not a uri"}}, 400, "invalid_target"),
        ({"form": {"resource": "/mcp"}}, 400, "invalid_target"),
    ],
    ids=[
        "unknown-client",
        "wrong-secret",
        "empty-secret",
        "unsupported-grant",
        "empty-grant",
        "unknown-scope",
        "unknown-resource",
        "resource-not-a-uri",
        "relative-resource",
    ],
)
def test_bad_requests_get_the_rfc_error_code(http, client, change, status, error):
    client_id = change.get("client_id", client.client.client_id)
    secret = change.get("secret", client.client_secret)
    form = {"grant_type": "client_credentials", **change.get("form", {})}

    response = http.post("/token", data=form, headers=basic(client_id, secret))

    assert response.status_code == status
    assert response.json["error"] == error
    assert "Traceback" not in response.get_data(as_text=True)


def test_resource_with_a_fragment_is_refused(http, client, settings: Settings):
    """RFC 8707 section 2: the resource URI MUST NOT include a fragment component."""
    response = request_token(http, client, resource=settings.resource_url + "#x")

    assert response.status_code == 400
    assert response.json["error"] == "invalid_target"


def test_two_resources_in_one_request_are_refused(http, client, settings: Settings):
    headers = basic(client.client.client_id, client.client_secret)
    form = {"grant_type": "client_credentials", "resource": [settings.resource_url, "https://b.example/"]}
    response = http.post("/token", data=form, headers=headers)

    assert response.status_code == 400
    assert response.json["error"] == "invalid_target"


def test_scope_beyond_the_clients_own_is_refused(http, auth_context):
    reader = make_client(scope="posts:read")

    response = request_token(http, reader, scope="posts:write")

    assert response.status_code == 400
    assert response.json["error"] == "invalid_scope"
    assert "posts:write" in response.json["error_description"]


def test_disabled_client_cannot_get_tokens(http, client):
    client.client.disabled_at = utcnow()
    db.session.commit()

    response = request_token(http, client)

    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"


def test_wrong_secret_answers_with_a_basic_challenge(http, client):
    """RFC 6749 section 5.2: a 401 for a client that used Authorization MUST carry WWW-Authenticate."""
    response = http.post("/token", data={"grant_type": "client_credentials"}, headers=basic(client.client.client_id, "x"))

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_get_on_the_token_endpoint_is_not_allowed(http):
    response = http.get("/token")

    assert response.status_code == 405
    assert response.json["error"] == "method_not_allowed"


def test_garbage_body_is_an_oauth_error_not_a_crash(http, client):
    headers = {**basic(client.client.client_id, client.client_secret), "Content-Type": "application/json"}
    response = http.post("/token", data=json.dumps({"grant_type": "client_credentials"}), headers=headers)

    assert response.status_code == 400
    assert response.json["error"] in {"invalid_request", "unsupported_grant_type"}


def test_two_apps_in_one_process_keep_their_own_issuer(auth_app, committed_client, settings):
    other = authserver.create_app(replace(settings, issuer="https://other-issuer.example"))
    form = {"grant_type": "client_credentials", "client_id": committed_client.client.client_id, "client_secret": committed_client.client_secret}

    ours = auth_app.test_client().post("/token", data=form).json["access_token"]
    theirs = other.test_client().post("/token", data=form).json["access_token"]

    assert decode(auth_app.test_client(), ours).claims["iss"] == settings.issuer
    assert decode(other.test_client(), theirs).claims["iss"] == "https://other-issuer.example"


def test_a_token_notes_the_clients_use_at_most_once_an_hour(http, client):
    def last_used():
        db.session.expire_all()
        return db.session.get(type(client.client), client.client.id).last_used_at

    assert request_token(http, client).status_code == 200
    first = last_used()
    assert request_token(http, client).status_code == 200

    assert first is not None
    assert last_used() == first  # no write per token


def test_a_disabled_client_is_refused_within_seconds_even_after_recent_tokens(http, client, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(cache, "time", clock)
    assert request_token(http, client).status_code == 200
    client.client.disabled_at = utcnow()
    db.session.commit()
    clock.now += CLIENT_CACHE_SECONDS + 1

    assert request_token(http, client).status_code == 401


def test_a_client_without_the_grant_is_an_unauthorized_client(http, auth_context):
    """RFC 6749 section 5.2: unauthorized_client, the client may not use this grant type."""
    no_grant = make_client(kind=WEB_APP, redirect_uris=("https://app.example.com/callback",))

    response = request_token(http, no_grant)

    assert response.status_code == 400
    assert response.json["error"] == "unauthorized_client"


def test_two_authentication_methods_in_one_request_are_refused(http, client):
    """RFC 6749 section 2.3: the client MUST NOT use more than one authentication method per request."""
    form = {"grant_type": "client_credentials", "client_id": client.client.client_id, "client_secret": client.client_secret}

    response = http.post("/token", data=form, headers=basic(client.client.client_id, "not-the-secret"))

    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"


@pytest.mark.parametrize(
    "form",
    [
        {"client_id": "no-such-client", "client_secret": "x"},
        {"client_id": "no-such-client"},
        {"client_secret": "x"},
        {},
    ],
    ids=["unknown-id", "no-secret", "no-id", "no-credentials"],
)
def test_missing_or_wrong_credentials_in_the_body_are_invalid_client(http, form):
    response = http.post("/token", data={"grant_type": "client_credentials", **form})

    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"
    assert response.headers["Cache-Control"] == "no-store"


def test_scope_with_a_quote_gets_an_invalid_scope_error_not_a_crash(http, client):
    response = request_token(http, client, scope='posts:read "x"')

    assert response.status_code == 400
    assert response.json["error"] == "invalid_scope"


def test_a_stale_client_is_read_again_by_one_request_while_the_others_keep_the_copy(committed_client, monkeypatch):
    """Many requests in flight when the copy goes stale must not all query the database at once."""
    clock = Clock()
    monkeypatch.setattr(cache, "time", clock)
    recent = cache.RefreshingCache(client_lookup.read_enabled_client, CLIENT_CACHE_SECONDS)
    client_id = committed_client.client.client_id
    stale_copy = recent.get(client_id)
    clock.now += CLIENT_CACHE_SECONDS + 1

    with arriving_mid_query(db.engine, lambda: recent.get(client_id)) as seen:
        fresh_copy = recent.get(client_id)

    assert seen.queries == 1
    assert seen.arriving_got == [stale_copy]
    assert fresh_copy is not stale_copy and fresh_copy.client_id == client_id


@pytest.fixture(scope="module")
def public_http(settings) -> FlaskClient:
    """The authorization server published at a name of its own, which its Host check answers for."""
    return authserver.create_app(replace(settings, issuer="https://auth.example")).test_client()


@pytest.mark.parametrize(("base_url", "status"), [("http://auth.example", 400), ("https://auth.example", 200), ("http://127.0.0.1", 200)])
def test_tokens_travel_over_https_or_loopback_only(public_http, committed_client, base_url, status):
    """OAuth 2.1 section 1.5: the token endpoint MUST be served over TLS (loopback is the exception)."""
    response = public_http.post("/token", data={"grant_type": "client_credentials"}, headers=basic(committed_client.client.client_id, committed_client.client_secret), base_url=base_url)

    assert response.status_code == status
    if status == 400:
        assert response.json["error"] == "invalid_request"


def test_chunked_and_large_form_bodies_get_tokens_too(live_services, committed_client):
    """A body of unknown length (chunked) is read whole, as is one of 20 KB."""
    url = f"{live_services.auth.url}/token"
    headers = basic(committed_client.client.client_id, committed_client.client_secret)
    form = {"grant_type": "client_credentials", "scope": "posts:read"}
    chunked_body = iter([b"grant_type=client_credentials", b"&scope=posts%3Aread"])
    chunked = httpx.post(url, content=chunked_body, headers={**headers, "Content-Type": "application/x-www-form-urlencoded"}, timeout=5)
    large = httpx.post(url, data={**form, "padding": "x" * 20_000}, headers=headers, timeout=5)

    assert chunked.request.headers["Transfer-Encoding"] == "chunked"
    for response in (chunked, large):
        assert response.status_code == 200, response.text
        assert response.json()["scope"] == "posts:read"


@pytest.mark.parametrize(
    "framing",
    [b"Transfer-Encoding: chunked\r\n\r\nzz\r\ngrant_type\r\n0\r\n\r\n", b"Content-Length: 100\r\n\r\ngrant_type=client_cre"],
    ids=["malformed-chunks", "body-shorter-than-content-length"],
)
def test_a_body_that_cannot_be_read_whole_is_an_invalid_request(live_services, framing):
    head = b"POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    # A second request follows on the same connection: the rest of a broken body must never be
    # taken for a request, so the server answers once and closes.
    following = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    answer = live.exchange(live_services.auth.url, head + framing + following)

    assert answer.startswith(b"HTTP/1.1 400 ")
    assert answer.count(b"HTTP/1.1 ") == 1
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["error"] == "invalid_request"


def test_a_form_that_is_not_utf8_is_an_invalid_request(http, client):
    headers = {**basic(client.client.client_id, client.client_secret), "Content-Type": "application/x-www-form-urlencoded"}
    for body in (b"grant_type=client_credentials&scope=posts%FFread", b"grant_type=client_credentials&scope=posts\xffread"):
        response = http.post("/token", data=body, headers=headers)

        assert response.status_code == 400
        assert response.json["error"] == "invalid_request"


def test_bodies_over_64_kib_are_refused_chunked_or_not(live_services, committed_client):
    url = f"{live_services.auth.url}/token"
    headers = {**basic(committed_client.client.client_id, committed_client.client_secret), "Content-Type": "application/x-www-form-urlencoded"}
    body = b"grant_type=client_credentials&padding=" + b"x" * 70_000
    sized = httpx.post(url, content=body, headers=headers, timeout=5)
    chunked = httpx.post(url, content=iter([body[:40_000], body[40_000:]]), headers=headers, timeout=5)

    assert (sized.status_code, chunked.status_code) == (413, 413)
    assert sized.json()["error"] == chunked.json()["error"] == "request_entity_too_large"
