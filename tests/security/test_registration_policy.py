"""Who may register what (issue #18): open registration acts for a person, machines need an operator.

Open dynamic registration (RFC 7591, no initial access token) creates only clients that act for a
person; a machine client (client_credentials) needs an initial access token an operator issued, and
holds only the scopes that token allows. A remembered consent is bound to its resource and to the
redirect URIs the client had when the person gave it.
"""

from __future__ import annotations

import time
from dataclasses import replace
from urllib.parse import urlencode

import httpx

from tests.browser_forms import FormBrowser, query
from tests.factories import PASSWORD, make_user, pkce_pair, register

REDIRECT_URI = "http://127.0.0.1:8765/callback"


def authorize_url(base: str, client_id: str, redirect_uri: str, resource: str) -> str:
    _, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "posts:read",
        "state": "s",
        "resource": resource,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{base}/authorize?{urlencode(params)}"


def test_a_remembered_consent_is_bound_to_its_resource(settings, auth_app, monkeypatch):
    """RFC 8707 section 2: the resource parameter names "the target service or resource to which
    access is being requested"; a person who allowed a client access to one resource has not allowed
    it access to another, so the consent page is shown again instead of a code being sent back."""
    other = "https://other-mcp.example/mcp"
    # The in-process server, told of a second resource; it answers the browser without a socket.
    monkeypatch.setitem(auth_app.config, "SETTINGS", replace(settings, known_resources=(settings.resource_url, other)))
    with auth_app.app_context():
        browser = FormBrowser(make_user().email, PASSWORD)
    browser.http = httpx.Client(transport=httpx.WSGITransport(app=auth_app), follow_redirects=False, timeout=10)
    client = register(settings.issuer, redirect_uris=[REDIRECT_URI])
    base = "http://127.0.0.1"

    first = browser.consent(authorize_url(base, client["client_id"], REDIRECT_URI, settings.resource_url))
    again = browser.http.get(authorize_url(base, client["client_id"], REDIRECT_URI, settings.resource_url))
    elsewhere = browser.http.get(authorize_url(base, client["client_id"], REDIRECT_URI, other))

    assert "code" in query(first)
    assert again.status_code == 302 and "code" in query(again.headers["Location"])
    assert elsewhere.status_code == 200
    assert 'name="granted"' in elsewhere.text


def test_a_remembered_consent_ends_when_the_redirect_uris_change(settings, auth_context):
    """RFC 7592 section 2.2 lets the holder of the registration access token replace the redirect
    URIs; RFC 9700 section 4.1 (redirect URI manipulation): codes must not reach a URI the person
    never saw. A consent given for the old URIs no longer applies: the person is asked again."""
    person = make_user()
    browser = FormBrowser(person.email, PASSWORD)
    client = register(settings.issuer, redirect_uris=[REDIRECT_URI])
    first = browser.consent(authorize_url(settings.issuer, client["client_id"], REDIRECT_URI, settings.resource_url))
    assert "code" in query(first)
    attacker = "https://attacker.example/callback"
    uri, headers = client["registration_client_uri"], {"Authorization": f"Bearer {client['registration_access_token']}"}
    update = {k: client[k] for k in ("client_id", "client_name", "grant_types", "response_types", "token_endpoint_auth_method")}
    assert httpx.put(uri, headers=headers, json={**update, "redirect_uris": [REDIRECT_URI, attacker]}, timeout=10).status_code == 200

    # The authorization server keeps a client it has read for a few seconds: wait until it knows the new URI.
    deadline = time.monotonic() + 20
    while True:
        answer = browser.http.get(authorize_url(settings.issuer, client["client_id"], attacker, settings.resource_url))
        if answer.status_code != 400 or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    old_uri = browser.http.get(authorize_url(settings.issuer, client["client_id"], REDIRECT_URI, settings.resource_url))

    assert answer.status_code == 200, answer.headers.get("Location")
    assert 'name="granted"' in answer.text
    assert old_uri.status_code == 200
    assert 'name="granted"' in old_uri.text


