"""The authorization server's pages under attack: where login sends a person, which redirect URIs
may be registered and which host the consent page names, and who can stop whom from logging in."""

from __future__ import annotations

import html
import re
import secrets
import time
from dataclasses import replace
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

import authserver
from authserver.models import Client
from authserver.registered_clients import register_client
from shared import scopes
from shared.db import db
from tests.browser_forms import FormBrowser, csrf_token
from tests.factories import PASSWORD, make_user, pkce_pair

_NEXT_FIELD = re.compile(r'name="next" type="hidden" value="([^"]*)"')
_REDIRECT_HOST = re.compile(r'id="redirect-host">([^<]*)<')
# Metadata as open registration leaves it (scope resolved), for clients stored directly.
PUBLIC_CLIENT = {
    "client_name": "A public client",
    "grant_types": ["authorization_code"],
    "response_types": ["code"],
    "token_endpoint_auth_method": "none",
    "scope": " ".join(sorted(scopes.SCOPE_NAMES)),
}


class Visitor:
    """A browser at one client address (or behind the trusted proxy, at one forwarded address)."""

    def __init__(self, app: Flask, address: str, proxied: bool = False) -> None:
        self.http: FlaskClient = app.test_client()
        if proxied:
            self.http.environ_base["REMOTE_ADDR"] = "10.0.0.2"  # the proxy
            self.http.environ_base["HTTP_X_FORWARDED_FOR"] = address
        else:
            self.http.environ_base["REMOTE_ADDR"] = address

    def login_form(self, login_query: str = "") -> dict[str, str]:
        """The hidden fields of the login page opened with `login_query`: its CSRF token and `next`."""
        page = self.http.get(f"/login{login_query}").get_data(as_text=True)
        return {"csrf_token": csrf_token(page), "next": html.unescape(_NEXT_FIELD.search(page).group(1))}

    def log_in(self, email: str, password: str, login_query: str = "", form: dict[str, str] | None = None) -> TestResponse:
        """Post the login form as a browser would, with the hidden fields its page carries."""
        fields = form or self.login_form(login_query)
        return self.http.post("/login", data={**fields, "email": email, "password": password})


def an_address() -> str:
    """An address of its own (a /64 no other test uses), so no two tests share a count."""
    return f"2001:db8:{secrets.token_hex(2)}:{secrets.token_hex(2)}::7"


@pytest.fixture
def person(auth_context):
    return make_user()


@pytest.mark.parametrize(
    "login_query",
    [
        "?next=/%09/evil.example",
        "?next=/%0A/evil.example",
        "?next=//evil.example",
        "?next=/%5Cevil.example",
        "?next=/%5C/evil.example",
        "?next=https://evil.example/",
        "?next=https:evil.example",
        "?next=/%2F%2Fevil.example",
        "?next=/%252F%252Fevil.example",
        "?next=%20//evil.example",
        "?next=javascript:alert(1)",
        "?next=/authorize/../%5Cevil.example",
        "?next=/authorize%09/evil.example",
    ],
)
def test_login_sends_a_person_only_to_a_page_this_server_issued(auth_app, person, login_query):
    """RFC 6749 section 10.15: "An open redirector is an endpoint using a parameter to automatically
    redirect a user-agent to the location specified by the parameter value without any validation."
    Browsers drop tabs and newlines and read a backslash as a slash, so `/%09/evil.example` became
    `//evil.example` once a person had logged in; only the /authorize request that sent the person
    here may come back, and everything else lands on the signed-in page."""
    response = Visitor(auth_app, an_address()).log_in(person.email, PASSWORD, login_query)

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_login_returns_to_the_authorization_request_that_sent_the_person(settings, auth_app, person):
    """The next the server itself issued (/authorize with the client's parameters) survives login,
    parameter for parameter, and what was encoded stays encoded."""
    client = register_client(dict(PUBLIC_CLIENT, redirect_uris=["http://127.0.0.1:8765/cb"])).client
    _, challenge = pkce_pair()
    query = {"response_type": "code", "client_id": client.client_id, "state": "st@te with spaces/&=?", "code_challenge": challenge}
    authorize = "/authorize?" + urlencode({**query, "code_challenge_method": "S256", "resource": settings.resource_url})
    visitor = Visitor(auth_app, an_address())
    sent_to_login = visitor.http.get(authorize)

    response = visitor.log_in(person.email, PASSWORD, sent_to_login.headers["Location"].removeprefix("/login"))

    assert response.status_code == 302
    assert response.headers["Location"] == authorize


@pytest.mark.parametrize(
    ("redirect_uri", "says"),
    [
        ("https://evil.example\\.trusted.example/cb", "RFC 3986"),
        ("http://127.0.0.1:8765/cb\\..\\evil", "RFC 3986"),
        ("https://trusted.example/c b", "RFC 3986"),
        ("https://trusted.example/cb\t", "RFC 3986"),
        ("https://trusted.example/\ncb", "RFC 3986"),
        ("https://tr\u00fcsted.example/cb", "RFC 3986"),
        ("https://trusted.example/cb?x=<y>", "RFC 3986"),
        ("https://trusted.example/cb?x={y}|^`", "RFC 3986"),
        ("https://trusted.example/cb%zz", "RFC 3986"),
        ("https://0x7f.1/cb", "127.0.0.1"),
        ("https://evil.example%5C.trusted.example/cb", "browser"),
    ],
    ids=[
        "backslash-in-host",
        "backslash-in-loopback-path",
        "space",
        "tab",
        "newline",
        "non-ascii",
        "angle-brackets",
        "unsafe-punctuation",
        "stray-percent",
        "host-a-browser-reads-as-ipv4",
        "encoded-backslash-in-host",
    ],
)
def test_redirect_uris_outside_rfc3986_are_refused(auth_app, redirect_uri, says):
    """RFC 3986 section 2: "A URI is composed from a limited set of characters consisting of digits,
    letters, and a few graphic symbols" (unreserved, reserved and pct-encoded), and RFC 6749 section
    3.1.2: "The redirection endpoint URI MUST be an absolute URI as defined by [RFC3986]". Anything
    else is read differently by browsers (WHATWG URL parsing) and by us, so the host a person
    consents to is not the host the code goes to: RFC 7591 section 3.2.2 answers
    invalid_redirect_uri, and nothing is registered."""
    name = f"redirect test {secrets.token_hex(4)}"
    body = {
        "client_name": name,
        "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code"],
        "token_endpoint_auth_method": "none",
    }

    response = auth_app.test_client().post("/register", json=body, base_url="http://127.0.0.1")

    assert response.status_code == 400
    assert response.json["error"] == "invalid_redirect_uri"
    assert says in response.json["error_description"]
    with auth_app.app_context():
        assert db.session.scalar(select(Client).where(Client.client_name == name)) is None


@pytest.mark.usefixtures("live_services")
def test_the_consent_page_names_the_host_a_browser_visits(settings, person):
    """The WHATWG URL Standard reads a backslash in an https URL as a path separator, so
    `https://evil.example\\.trusted.example/cb` takes the browser to evil.example. A client stored
    before registration refused such URIs is shown with the host the browser will visit."""
    redirect_uri = "https://evil.example\\.trusted.example/cb"
    client = register_client(dict(PUBLIC_CLIENT, redirect_uris=[redirect_uri])).client
    _, challenge = pkce_pair()
    query = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "scope": "posts:read",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "resource": settings.resource_url,
    }
    browser = FormBrowser(person.email, PASSWORD)
    authorize_url = f"{settings.issuer}/authorize?{urlencode(query)}"
    browser.log_in(f"{settings.issuer}{browser.http.get(authorize_url).headers['Location']}")

    page = browser.http.get(authorize_url)

    assert page.status_code == 200
    assert _REDIRECT_HOST.search(page.text).group(1) == "evil.example"


@pytest.mark.parametrize("proxied", [False, True], ids=["direct", "behind-the-trusted-proxy"])
def test_failed_logins_from_one_address_never_lock_out_a_person_elsewhere(settings, commits, person, proxied):
    """RFC 6749 section 10.10: "The authorization server MUST prevent attackers from guessing ...
    resource owner passwords"; doing it with a lock anyone can trigger hands every stranger a way
    to keep a person out. Failures are counted per (account, client address), the address being
    what DRAWBRIDGE_TRUSTED_PROXY_COUNT makes of X-Forwarded-For."""
    app = authserver.create_app(replace(settings, trusted_proxy_count=1 if proxied else 0))
    attacker, owner = Visitor(app, an_address(), proxied), Visitor(app, an_address(), proxied)

    guesses = [attacker.log_in(person.email, f"guess {i}").status_code for i in range(8)]
    signed_in = owner.log_in(person.email, PASSWORD)

    assert guesses[0] == 401 and guesses[-1] == 429
    assert signed_in.status_code == 302


def test_guessing_from_one_address_waits_longer_after_every_failure(auth_app, person):
    """NIST SP 800-63B section 5.2.2 (rate limiting): a verifier may require the claimant "to wait
    following a failed attempt for a period of time that increases" with each failure. Past the few
    free failures the next attempt waits 1 s, then 2 s, ...: a 429 page that says when to retry,
    with Retry-After, that not even the right password gets past."""
    attacker = Visitor(auth_app, an_address())
    form = attacker.login_form()  # one page, posted again and again, as a guessing script would
    free = [attacker.log_in(person.email, f"guess {i}", form=form).status_code for i in range(5)]

    first_wait = attacker.log_in(person.email, PASSWORD, form=form)
    deadline = time.monotonic() + 10
    while (after_wait := attacker.log_in(person.email, "one more guess", form=form)).status_code == 429 and time.monotonic() < deadline:
        time.sleep(0.2)
    second_wait = attacker.log_in(person.email, PASSWORD, form=form)

    assert free == [401] * 5
    assert (first_wait.status_code, first_wait.headers.get("Retry-After")) == (429, "1")
    assert "Try again in 1 second." in first_wait.get_data(as_text=True)
    assert after_wait.status_code == 401
    assert (second_wait.status_code, second_wait.headers.get("Retry-After")) == (429, "2")
    assert "Try again in 2 seconds." in second_wait.get_data(as_text=True)
