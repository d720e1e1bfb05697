"""Authorization code + PKCE, against the live authorization server, refusals first."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import update

from authserver.models import AuthorizationCode
from shared.db import db, utcnow
from tests.browser_forms import FormBrowser, csrf_token, query
from tests.factories import PASSWORD, make_user, pkce_pair, register
from tests.mcp_http import rpc

pytestmark = pytest.mark.usefixtures("live_services")

REDIRECT_URI = "http://127.0.0.1:8765/callback"


@pytest.fixture
def person(auth_context):
    return make_user()


@pytest.fixture
def browser(person) -> FormBrowser:
    return FormBrowser(person.email, PASSWORD)


@pytest.fixture
def client(settings) -> dict:
    return register(settings.issuer)


def authorize_url(settings, client_id: str, challenge: str | None, **extra: str) -> str:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "posts:read posts:write",
        "state": "st@te with spaces/&=?",
        "resource": settings.resource_url,
    }
    if challenge is not None:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    params.update(extra)
    return f"{settings.issuer}/authorize?{urlencode({k: v for k, v in params.items() if v is not None})}"


def exchange(settings, client_id: str, code: str, verifier: str | None, **extra: str) -> httpx.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "client_id": client_id}
    if verifier is not None:
        form["code_verifier"] = verifier
    form.update(extra)
    return httpx.post(f"{settings.issuer}/token", data=form, timeout=10)


def refresh(settings, client_id: str, refresh_token: str, **extra: str) -> httpx.Response:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id, **extra}
    return httpx.post(f"{settings.issuer}/token", data=form, timeout=10)


def call_tool(settings, access_token: str) -> httpx.Response:
    return rpc(settings.resource_url, access_token, "tools/list")


def code_for(settings, browser: FormBrowser, client: dict, **extra: str) -> tuple[str, str]:
    verifier, challenge = pkce_pair()
    landed = query(browser.consent(authorize_url(settings, client["client_id"], challenge, **extra)))
    return landed["code"], verifier


def test_the_code_comes_back_with_state_untouched_and_iss(settings, browser, client):
    verifier, challenge = pkce_pair()

    landed = browser.consent(authorize_url(settings, client["client_id"], challenge))

    assert landed.startswith(REDIRECT_URI + "?")
    params = query(landed)
    assert params["state"] == "st@te with spaces/&=?"
    assert params["iss"] == settings.issuer
    assert len(params["code"]) >= 43


def test_code_exchange_gives_an_audience_bound_token_and_a_refresh_token(settings, browser, client, person):
    code, verifier = code_for(settings, browser, client)

    response = exchange(settings, client["client_id"], code, verifier, resource=settings.resource_url)

    assert response.status_code == 200
    token = response.json()
    assert token["scope"] == "posts:read posts:write"
    assert token["refresh_token"]
    assert call_tool(settings, token["access_token"]).status_code == 200


@pytest.mark.parametrize(
    ("pkce", "description"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, "PKCE is required"),
        ({"code_challenge_method": "plain"}, "Only code_challenge_method=S256"),
        ({"code_challenge_method": None}, "Only code_challenge_method=S256"),
        ({"code_challenge": "too-short"}, "malformed"),
    ],
    ids=["missing", "plain", "no-method", "malformed"],
)
def test_authorization_without_s256_pkce_is_refused_back_to_the_client(settings, browser, client, pkce, description):
    _, challenge = pkce_pair()
    url = authorize_url(settings, client["client_id"], challenge, **pkce)

    response = browser.http.get(url)

    assert response.status_code == 302
    params = query(response.headers["Location"])
    assert response.headers["Location"].startswith(REDIRECT_URI)
    assert params["error"] == "invalid_request"
    assert description in params["error_description"]
    assert params["state"] == "st@te with spaces/&=?"
    assert params["iss"] == settings.issuer


@pytest.mark.parametrize(
    ("verifier", "status", "error"),
    [(None, 400, "invalid_request"), ("x" * 43, 400, "invalid_grant"), ("short", 400, "invalid_request")],
    ids=["missing", "wrong", "malformed"],
)
def test_the_code_needs_its_verifier(settings, browser, client, verifier, status, error):
    code, _ = code_for(settings, browser, client)

    response = exchange(settings, client["client_id"], code, verifier)

    assert response.status_code == status
    assert response.json()["error"] == error


def test_a_replayed_code_is_refused_and_revokes_what_it_gave(settings, browser, client):
    """RFC 6749 4.1.2: a code used twice MUST be denied and SHOULD revoke the tokens issued from it."""
    code, verifier = code_for(settings, browser, client)
    first = exchange(settings, client["client_id"], code, verifier).json()
    assert call_tool(settings, first["access_token"]).status_code == 200

    replay = exchange(settings, client["client_id"], code, verifier)

    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert call_tool(settings, first["access_token"]).status_code == 401
    assert refresh(settings, client["client_id"], first["refresh_token"]).json()["error"] == "invalid_grant"


def test_an_expired_code_is_refused(settings, browser, client):
    code, verifier = code_for(settings, browser, client)
    db.session.execute(update(AuthorizationCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()

    response = exchange(settings, client["client_id"], code, verifier)

    assert response.json()["error"] == "invalid_grant"


def test_a_code_is_bound_to_its_client(settings, browser, client):
    code, verifier = code_for(settings, browser, client)
    other = register(settings.issuer)

    response = exchange(settings, other["client_id"], code, verifier)

    assert response.json()["error"] == "invalid_grant"


def test_the_token_request_must_name_the_same_resource(settings, browser, client):
    code, verifier = code_for(settings, browser, client)

    response = exchange(settings, client["client_id"], code, verifier, resource="https://other.example/mcp")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"


def test_an_unknown_resource_is_refused_at_authorization(settings, browser, client):
    _, challenge = pkce_pair()

    response = browser.http.get(authorize_url(settings, client["client_id"], challenge, resource="https://evil.example/"))

    assert query(response.headers["Location"])["error"] == "invalid_target"


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://127.0.0.1:8765/callbackx",
        "http://127.0.0.1:8765/callback/",
        "http://127.0.0.1:8765/callback/extra",
        "http://127.0.0.1:8765/CALLBACK",
        "HTTP://127.0.0.1:8765/callback",
        "http://127.0.0.1.evil.example/callback",
        "http://user@127.0.0.1:8765/callback",
        "http://127.0.0.1:8765/call",
        "https://attacker.example/callback",
        'http://127.0.0.1:8765/callback"<script>',
    ],
    ids=["suffix", "trailing-slash", "extra-path", "case-path", "case-scheme", "host-suffix", "userinfo", "prefix", "foreign", "quote"],
)
def test_an_altered_redirect_uri_gets_an_error_page_never_a_redirect(settings, browser, client, redirect_uri):
    _, challenge = pkce_pair()
    url = authorize_url(settings, client["client_id"], challenge, redirect_uri=redirect_uri)

    response = browser.http.get(url)

    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "text/html" in response.headers["Content-Type"]
    assert "This sign-in request is not valid" in response.text


def test_a_loopback_redirect_may_use_any_port(settings, browser, client):
    """RFC 8252 section 7.3: the authorization server MUST allow any port for loopback redirect URIs."""
    _, challenge = pkce_pair()
    url = authorize_url(settings, client["client_id"], challenge, redirect_uri="http://127.0.0.1:50123/callback")

    landed = browser.consent(url)

    assert landed.startswith("http://127.0.0.1:50123/callback?code=")


def test_an_unknown_client_gets_an_error_page(settings, browser):
    _, challenge = pkce_pair()

    response = browser.http.get(authorize_url(settings, "no-such-client", challenge))

    assert response.status_code == 400
    assert "Location" not in response.headers


def test_denying_sends_access_denied_to_the_client(settings, browser, client):
    _, challenge = pkce_pair()

    landed = browser.consent(authorize_url(settings, client["client_id"], challenge), decision="deny")

    assert query(landed)["error"] == "access_denied"


def test_granted_scopes_are_requested_and_allowed_and_consented(settings, browser):
    reader = register(settings.issuer, scope="posts:read")
    verifier, challenge = pkce_pair()
    landed = browser.consent(authorize_url(settings, reader["client_id"], challenge))

    token = exchange(settings, reader["client_id"], query(landed)["code"], verifier).json()

    assert token["scope"] == "posts:read"


def test_an_unticked_scope_is_not_granted_and_the_choice_is_remembered(settings, browser, client):
    verifier, challenge = pkce_pair()
    landed = browser.consent(authorize_url(settings, client["client_id"], challenge), untick=("posts:write",))
    assert exchange(settings, client["client_id"], query(landed)["code"], verifier).json()["scope"] == "posts:read"

    _, challenge = pkce_pair()
    asks_more = browser.http.get(authorize_url(settings, client["client_id"], challenge))
    verifier, challenge = pkce_pair()
    asks_same = browser.http.get(authorize_url(settings, client["client_id"], challenge, scope="posts:read"))

    assert asks_more.status_code == 200  # posts:write was refused before: ask again
    assert asks_same.status_code == 302  # remembered: straight back to the client
    code = query(asks_same.headers["Location"])["code"]
    assert exchange(settings, client["client_id"], code, verifier).json()["scope"] == "posts:read"


def test_unticking_everything_is_not_an_approval(settings, browser, client):
    _, challenge = pkce_pair()
    url = authorize_url(settings, client["client_id"], challenge)
    browser.log_in(f"{settings.issuer}{browser.http.get(url).headers['Location']}")
    page = browser.http.get(url)

    response = browser.http.post(url, data={"csrf_token": csrf_token(page.text), "decision": "approve"})

    assert response.status_code == 400
    assert "Tick at least one permission" in response.text


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_family(settings, browser, client):
    code, verifier = code_for(settings, browser, client)
    first = exchange(settings, client["client_id"], code, verifier).json()

    second = refresh(settings, client["client_id"], first["refresh_token"]).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert call_tool(settings, second["access_token"]).status_code == 200

    reuse = refresh(settings, client["client_id"], first["refresh_token"])

    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"
    assert refresh(settings, client["client_id"], second["refresh_token"]).json()["error"] == "invalid_grant"
    assert call_tool(settings, second["access_token"]).status_code == 401


def test_refresh_may_narrow_the_scope_but_never_widen_it(settings, browser, client):
    code, verifier = code_for(settings, browser, client, scope="posts:read")
    first = exchange(settings, client["client_id"], code, verifier).json()

    widened = refresh(settings, client["client_id"], first["refresh_token"], scope="posts:read posts:write")

    assert widened.status_code == 400
    assert widened.json()["error"] == "invalid_scope"
    narrowed = refresh(settings, client["client_id"], first["refresh_token"], scope="posts:read").json()
    assert narrowed["scope"] == "posts:read"


def test_refresh_by_another_client_is_refused(settings, browser, client):
    code, verifier = code_for(settings, browser, client)
    first = exchange(settings, client["client_id"], code, verifier).json()
    other = register(settings.issuer)

    response = refresh(settings, other["client_id"], first["refresh_token"])

    assert response.json()["error"] == "invalid_grant"


def test_the_consent_form_without_its_csrf_token_is_refused(settings, browser, client):
    _, challenge = pkce_pair()
    url = authorize_url(settings, client["client_id"], challenge)
    page = browser.http.get(url)
    browser.log_in(f"{settings.issuer}{page.headers['Location']}")

    response = browser.http.post(url, data={"decision": "approve", "granted": ["posts:read"]})

    assert response.status_code == 400
    assert "Location" not in response.headers


def test_the_login_form_without_its_csrf_token_is_refused(settings, browser, person):
    browser.http.get(f"{settings.issuer}/login")

    response = browser.http.post(f"{settings.issuer}/login", data={"email": person.email, "password": PASSWORD})

    assert response.status_code == 400
    assert browser.http.get(f"{settings.issuer}/").headers["Location"] == "/login"  # still signed out
