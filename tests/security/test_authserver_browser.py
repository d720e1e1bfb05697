"""The authorization server's pages under attack: where login sends a person, which redirect URIs
may be registered and which host the consent page names, and who can stop whom from logging in."""

from __future__ import annotations

import html
import re
import secrets
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from authserver.clients import register_client
from authserver.models import Client
from shared.db import db
from tests.browser_forms import FormBrowser, csrf_token
from tests.factories import PASSWORD, make_user, pkce_pair

_NEXT_FIELD = re.compile(r'name="next" type="hidden" value="([^"]*)"')
_REDIRECT_HOST = re.compile(r'id="redirect-host">([^<]*)<')
# Metadata as registration leaves it, for clients stored directly.
PUBLIC_CLIENT = {
    "client_name": "A public client",
    "grant_types": ["authorization_code"],
    "response_types": ["code"],
    "token_endpoint_auth_method": "none",
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

    def log_in(self, email: str, password: str, login_query: str = "") -> TestResponse:
        """Open the login page (with `login_query`), then post the form as a browser would: with the
        hidden `next` the page carries."""
        page = self.http.get(f"/login{login_query}").get_data(as_text=True)
        next_url = html.unescape(_NEXT_FIELD.search(page).group(1))
        form = {"csrf_token": csrf_token(page), "email": email, "password": password, "next": next_url}
        return self.http.post("/login", data=form)


def an_address() -> str:
    return f"198.51.100.{secrets.randbelow(250) + 1}" if secrets.randbelow(2) else f"2001:db8:{secrets.token_hex(2)}::1"


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

    response = auth_app.test_client().post("/register", json=body, base_url="https://auth.example")

    assert response.status_code == 400
    assert response.json["error"] == "invalid_redirect_uri"
    assert says in response.json["error_description"]
    with auth_app.app_context():
        assert db.session.scalar(select(Client).where(Client.client_name == name)) is None


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
