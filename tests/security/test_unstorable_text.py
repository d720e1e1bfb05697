"""Text the database cannot hold (issue #18): a NUL or an unpaired surrogate gets the endpoint's own
error, never a 500, and the authorization server's remaining misleading refusals say what is wrong.

PostgreSQL refuses NUL in text and no UTF-8 encoder takes an unpaired surrogate, so either one
reaching a query was a 500. These run against the live authorization server on PostgreSQL.
"""

from __future__ import annotations

import json
import secrets
from urllib.parse import urlencode

import httpx
import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from authserver.models import Client
from shared.cli import cli, create_cli_app
from shared.db import db
from tests.browser_forms import FormBrowser, csrf_token
from tests.factories import PASSWORD, make_user, pkce_pair, register

pytestmark = pytest.mark.usefixtures("live_services")

REDIRECT_URI = "http://127.0.0.1:8765/callback"
JSON = {"Content-Type": "application/json"}


def stored_client_name(client_id: str) -> str | None:
    db.session.expire_all()
    return db.session.scalar(select(Client.client_name).where(Client.client_id == client_id))


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "\\u0000"], ids=["high-surrogate", "low-surrogate", "nul"])
def test_registration_refuses_text_that_cannot_be_stored(settings, auth_context, escape):
    """RFC 8259 §8.2: a string holding an unpaired surrogate has "unpredictable" behaviour, and RFC
    3629 §3 forbids encoding surrogates in UTF-8; PostgreSQL refuses NUL in text. RFC 7591 §3.2.2:
    invalid_client_metadata when "the value of one of the client metadata fields is invalid", for a
    registration (POST /register) and an RFC 7592 §2.2 update (PUT /register/ID) alike."""
    registered = register(settings.issuer)
    client_id, token = registered["client_id"], registered["registration_access_token"]
    uri = f'"redirect_uris":["{REDIRECT_URI}"],"token_endpoint_auth_method":"none"'

    created = httpx.post(f"{settings.issuer}/register", content=f'{{{uri},"client_name":"{escape}"}}', headers=JSON, timeout=10)
    updated = httpx.put(
        f"{settings.issuer}/register/{client_id}",
        content=f'{{{uri},"client_id":"{client_id}","client_name":"a{escape}b"}}',
        headers={**JSON, "Authorization": f"Bearer {token}"},
        timeout=10,
    )

    for response in (created, updated):
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "invalid_client_metadata"
    assert stored_client_name(client_id) == "Test MCP client"


def token_request(settings, **form: str) -> httpx.Response:
    return httpx.post(f"{settings.issuer}/token", data=form, timeout=10)


@pytest.mark.parametrize(
    "send",
    [
        lambda s: token_request(s, grant_type="client_credentials", client_id="\x00", client_secret="x"),
        lambda s: token_request(s, grant_type="client_credentials", client_id="x", client_secret="x", scope="posts:read\x00"),
        lambda s: token_request(
            s, grant_type="authorization_code", client_id="\x00", code="x", redirect_uri=REDIRECT_URI, code_verifier="x" * 43
        ),
        lambda s: token_request(s, grant_type="authorization_code", client_id="x", code="\x00", redirect_uri=REDIRECT_URI),
        lambda s: httpx.post(f"{s.issuer}/token?client_id=%00", data={"grant_type": "client_credentials"}, timeout=10),
    ],
    ids=["cc-client-id", "cc-scope", "code-client-id", "code-code", "query"],
)
def test_the_token_endpoint_refuses_nul_as_invalid_request(settings, send):
    """RFC 6749 §5.2: invalid_request when "the request ... includes an unsupported parameter
    value"; a NUL is one no client id, code or scope can hold (PostgreSQL stores no NUL in text)."""
    response = send(settings)

    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("grant_type", ["client_credentials", "authorization_code"])
def test_the_token_endpoint_takes_a_nul_client_id_in_basic_auth_for_an_unknown_client(settings, grant_type):
    """RFC 6749 §5.2: invalid_client (401) when "Client authentication failed (e.g., unknown client
    ...)"; an id sent in the HTTP Basic header (RFC 7617) with a NUL names no client."""
    form = {"grant_type": grant_type, "code": "x", "redirect_uri": REDIRECT_URI}
    response = httpx.post(f"{settings.issuer}/token", data=form, auth=("\x00", "x"), timeout=10)

    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"


def test_registration_refuses_nul_in_the_path_as_an_unknown_client(settings):
    """RFC 7592 §2.1: "If the client does not exist on this server, the server MUST respond with
    HTTP 401 Unauthorized"; no client id holds a NUL."""
    response = httpx.get(f"{settings.issuer}/register/%00", headers={"Authorization": "Bearer x"}, timeout=10)

    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_token"


def test_authorize_refuses_nul_with_the_error_page(settings):
    """RFC 6749 §4.1.2.1: until the redirect URI is known, "the authorization server SHOULD inform the
    resource owner of the error and MUST NOT automatically redirect the user-agent": a person's
    browser gets our error page, not a redirect and not a 500."""
    params = {"response_type": "code", "client_id": "\x00", "redirect_uri": REDIRECT_URI, "code_challenge_method": "S256"}
    response = httpx.get(f"{settings.issuer}/authorize?{urlencode(params)}", headers={"Accept": "text/html"}, timeout=10)

    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"].startswith("text/html")
    assert "NUL" in response.text
    assert "Location" not in response.headers


@pytest.mark.parametrize("email", ["\x00", "alice@example.com\x00"], ids=["nul", "trailing-nul"])
def test_login_refuses_nul_with_the_error_page(settings, email):
    """RFC 3629 and PostgreSQL: no email address holds a NUL. Bad input from a person's browser gets a
    precise 400 page (issue #18), not a 500; the form's CSRF token is valid, so only the NUL is wrong."""
    browser = httpx.Client(timeout=10)
    page = browser.get(f"{settings.issuer}/login")

    response = browser.post(f"{settings.issuer}/login", data={"csrf_token": csrf_token(page.text), "email": email, "password": "x"})

    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"].startswith("text/html")
    assert "NUL" in response.text


def test_anonymous_machine_registration_is_told_it_needs_an_initial_access_token(settings):
    """RFC 7591 §3 lets a server restrict registration without an initial access token "to certain
    types of clients"; §3.2.2's invalid_client_metadata then says why. response_types defaults to
    what the grant types need (§2: "code" goes with authorization_code), so the refusal is the policy."""
    body = {"redirect_uris": [REDIRECT_URI], "grant_types": ["client_credentials"]}

    response = httpx.post(f"{settings.issuer}/register", json=body, timeout=10)

    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_client_metadata"
    assert "initial access token" in response.json()["error_description"]


@pytest.fixture(scope="module")
def operator(settings) -> FlaskCliRunner:
    """The `drawbridge` command line, on the live services' database."""
    return create_cli_app(settings).test_cli_runner()


def test_machine_registration_needs_no_response_types(settings, operator):
    """RFC 7591 §2: response_types is OPTIONAL, and a client_credentials client uses no response type:
    with an operator's initial access token, a machine client registers without naming them."""
    issued = operator.invoke(cli, ["registration-tokens", "create", "--scopes", "posts:read", "--expires-in", "1h", "--json"])
    token = json.loads(issued.stdout)["initial_access_token"]
    body = {"grant_types": ["client_credentials"], "client_name": f"machine {secrets.token_hex(4)}"}

    response = httpx.post(f"{settings.issuer}/register", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10)

    assert response.status_code == 201, response.text
    assert response.json()["response_types"] == []
    assert response.json()["grant_types"] == ["client_credentials"]


def test_consent_for_a_scope_never_asked_for_says_so(settings, auth_context):
    """RFC 6749 §3.3: the issued scope is what the resource owner granted of what the client asked for.
    A consent naming a scope outside the request is refused with a 400 page saying so, not with
    "This form has expired" (the form's CSRF token is valid)."""
    client = register(settings.issuer)
    browser = FormBrowser(make_user().email, PASSWORD)
    _, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": REDIRECT_URI,
        "scope": "posts:read",
        "resource": settings.resource_url,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    url = f"{settings.issuer}/authorize?{urlencode(params)}"
    browser.log_in(f"{settings.issuer}{browser.http.get(url).headers['Location']}")
    page = browser.http.get(url)

    response = browser.http.post(url, data={"csrf_token": csrf_token(page.text), "decision": "approve", "granted": ["posts:write"]})

    assert response.status_code == 400, response.text
    assert "Location" not in response.headers
    assert "expired" not in response.text
    assert "posts:write" in response.text
