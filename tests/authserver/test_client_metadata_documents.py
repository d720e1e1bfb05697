"""Clients known from their Client ID Metadata Document, against the live authorization server:
the consent page, the copy kept while fresh and while the host is down, and every refusal in words."""

from __future__ import annotations

import html
import json
from datetime import timedelta
from urllib.parse import urlencode, urljoin

import httpx
import pytest
from sqlalchemy import select, update

from authserver.models import Client
from authserver.oauth.cimd import STALE_SECONDS
from authserver.oauth.cimd_fetch import MAX_DOCUMENT_BYTES
from shared.db import db, utcnow
from tests.browser_forms import FormBrowser, query
from tests.client_host import Answer, ClientHost
from tests.factories import PASSWORD, make_user, pkce_pair

pytestmark = pytest.mark.usefixtures("live_services")

REDIRECT_URI = "http://127.0.0.1:8765/callback"


def document(url: str, **overrides: object) -> dict:
    """A valid document for `url`, field by field overridable (None leaves a field out)."""
    fields = {
        "client_id": url,
        "client_name": "Documented MCP client",
        "redirect_uris": [REDIRECT_URI],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        **overrides,
    }
    return {k: v for k, v in fields.items() if v is not None}


def authorize_url(settings, client_id: str, redirect_uri: str = REDIRECT_URI, scope: str = "posts:read", challenge: str | None = None) -> str:
    params = {
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": scope, "state": "s",
        "resource": settings.resource_url, "code_challenge": challenge or pkce_pair()[1], "code_challenge_method": "S256",
    }
    return f"{settings.issuer}/authorize?{urlencode(params)}"


def authorize(settings, client_id: str, http: httpx.Client | None = None, redirect_uri: str = REDIRECT_URI) -> httpx.Response:
    url = authorize_url(settings, client_id, redirect_uri)
    return http.get(url) if http is not None else httpx.get(url, timeout=10)


def assert_accepted(response: httpx.Response) -> None:
    """The client passed: a person who is not signed in is sent to log in."""
    assert response.status_code == 302 and "/login" in response.headers["Location"], response.text


def assert_refused_page(response: httpx.Response, words: str) -> None:
    """Refused before the redirect URI is trusted: our HTML page, never a redirect."""
    assert response.status_code == 400, response.text
    assert "Location" not in response.headers
    assert response.headers["Content-Type"].startswith("text/html")
    assert words in html.unescape(response.text)


@pytest.fixture
def served(client_host: ClientHost) -> str:
    """The URL of a valid document, fresh for ten minutes."""
    path = client_host.new_path()
    url = client_host.url(path)
    client_host.serve_document(path, document(url), **{"Cache-Control": "max-age=600"})
    return url


def kept(url: str) -> Client:
    return db.session.scalar(select(Client).where(Client.client_id == url).execution_options(populate_existing=True))


def age_copy(url: str, fresh_until_from_now: timedelta) -> None:
    """The time the kept copy is fresh until, moved as if time had passed."""
    db.session.execute(update(Client).where(Client.client_id == url).values(document_fresh_until=utcnow() + fresh_until_from_now))
    db.session.commit()


def test_the_consent_page_names_the_documents_host_and_that_nobody_here_verified_it(settings, auth_context, served):
    """draft-ietf-oauth-client-id-metadata-document-01 section 6.4: "The authorization server SHOULD
    display the hostname of the client_id on the authorization interface"; MCP 2025-11-25, Trust
    Policies: "Display the CIMD and other associated client hostnames prominently"."""
    person = make_user()
    browser = FormBrowser(person.email, PASSWORD)
    to_login = authorize(settings, served, http=browser.http)
    browser.log_in(urljoin(settings.issuer, to_login.headers["Location"]))

    page = authorize(settings, served, http=browser.http)

    assert page.status_code == 200
    assert '<strong class="host" id="client-host">localhost</strong>' in page.text
    assert "the operator of this server has not\n  verified it" in page.text
    assert '<span id="client-name">Documented MCP client</span>' in page.text


def test_a_client_known_from_its_document_gets_only_what_the_person_allowed(settings, auth_context, served):
    """It holds no scopes of its own (registration.OPEN): its token carries what the person left
    ticked, after PKCE S256 as for any public client."""
    person = make_user()
    verifier, challenge = pkce_pair()
    url = authorize_url(settings, served, scope="posts:read posts:write", challenge=challenge)
    landed = query(FormBrowser(person.email, PASSWORD).consent(url, untick=("posts:write",)))
    form = {
        "grant_type": "authorization_code", "code": landed["code"], "code_verifier": verifier,
        "redirect_uri": REDIRECT_URI, "client_id": served, "resource": settings.resource_url,
    }

    token = httpx.post(f"{settings.issuer}/token", data=form, timeout=10)

    assert token.status_code == 200, token.text
    assert token.json()["scope"] == "posts:read"
    assert token.json()["refresh_token"]


def test_a_document_is_fetched_once_while_its_copy_is_fresh(settings, auth_context, client_host, served):
    assert_accepted(authorize(settings, served))
    assert_accepted(authorize(settings, served))

    assert client_host.hits[served.removeprefix(client_host.url(""))] == 1
    client = kept(served)
    assert client.from_metadata_document and client.is_public
    assert client.secrets == []
    assert timedelta(seconds=560) < client.document_fresh_until - utcnow() <= timedelta(seconds=600)


def test_a_changed_document_is_read_again_once_its_copy_is_no_longer_fresh(settings, auth_context, client_host, served):
    assert_accepted(authorize(settings, served))
    path = served.removeprefix(client_host.url(""))
    new_uri = "http://127.0.0.1:9999/other"
    client_host.serve_document(path, document(served, redirect_uris=[new_uri]))

    assert_refused_page(authorize(settings, served, redirect_uri=new_uri), "The redirect_uri is not registered for this client.")
    age_copy(served, timedelta(seconds=-1))

    assert_accepted(authorize(settings, served, redirect_uri=new_uri))
    assert kept(served).redirect_uris == [new_uri]


def test_the_kept_copy_stands_in_while_the_host_is_down_for_an_hour_at_most(settings, auth_context, client_host, served):
    """Section 4.4 lets the server keep documents; an unreachable host is not an invalid document.
    Past STALE_SECONDS beyond its freshness the copy no longer stands in."""
    assert_accepted(authorize(settings, served))
    client_host.stop()
    age_copy(served, timedelta(seconds=-1))

    assert_accepted(authorize(settings, served))

    age_copy(served, -timedelta(seconds=STALE_SECONDS + 1))

    assert_refused_page(
        authorize(settings, served), f"The client metadata document at {served} could not be fetched: its host could not be reached."
    )


def test_an_error_answer_is_never_kept(settings, client_host):
    """Section 4.4: "The authorization server MUST NOT cache error responses"."""
    path = client_host.new_path()
    url = client_host.url(path)
    client_host.serve(path, Answer(b"busy", 503, {"Content-Type": "text/plain"}))

    assert_refused_page(authorize(settings, url), f"The client metadata document at {url} could not be fetched: its host answered 503 instead of 200.")

    client_host.serve_document(path, document(url))

    assert_accepted(authorize(settings, url))
    assert client_host.hits[path] == 2


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda url: Answer(json.dumps(document("https://localhost/elsewhere.json")).encode()),
         "is not valid: its client_id must be {url}, the URL it is served at, exactly."),
        (lambda url: Answer(json.dumps(document(url, client_secret="s3cret")).encode()),
         "is not valid: it carries client_secret, but a document cannot share a secret."),
        (lambda url: Answer(json.dumps(document(url, token_endpoint_auth_method="private_key_jwt")).encode()),
         "is not valid: token_endpoint_auth_method private_key_jwt is not supported here; use none (a public client, with PKCE)."),
        (lambda url: Answer(json.dumps(document(url, client_name="x" * MAX_DOCUMENT_BYTES)).encode()),
         f"is {{size}} bytes long; the most this server reads is {MAX_DOCUMENT_BYTES}."),
        (lambda url: Answer(json.dumps(document(url, client_name="x" * MAX_DOCUMENT_BYTES)).encode(), declare_length=False),
         f"is larger than {MAX_DOCUMENT_BYTES} bytes, the most this server reads."),
        (lambda url: Answer(json.dumps(document(url)).encode(), headers={"Content-Type": "text/html"}),
         "is served as text/html, not as application/json."),
        (lambda url: Answer(json.dumps(document(url)).encode(), delay_seconds=3),
         "could not be fetched: its host did not answer within 2 s."),
        (lambda url: Answer(b"gone", 404, {"Content-Type": "text/plain"}), "could not be fetched: its host answered 404 instead of 200."),
        (lambda url: Answer(b"", 302, {"Location": url + "x"}), "could not be fetched: its host answered 302, a redirect, which is not followed."),
        (lambda url: Answer(b"{not json"), "is not valid: it is not UTF-8 JSON."),
    ],
    ids=["client_id", "client_secret", "private_key_jwt", "oversize", "oversize_undeclared", "content_type", "timeout", "not_found", "redirect", "not_json"],
)
def test_a_document_that_cannot_be_used_is_refused_with_a_page_saying_why(settings, client_host, answer, words):
    path = client_host.new_path()
    url = client_host.url(path)
    served = answer(url)
    client_host.serve(path, served)

    response = authorize(settings, url)

    assert_refused_page(response, f"The client metadata document at {url} ")
    assert words.format(url=url, size=len(served.body)) in html.unescape(response.text)


def test_a_redirect_uri_not_in_the_document_is_refused_with_a_page(settings, served):
    """MCP 2025-11-25: the server "MUST validate redirect URIs presented in an authorization request
    against those in the metadata document"; the exact match of RFC 6749 section 3.1.2."""
    response = authorize(settings, served, redirect_uri="http://127.0.0.1:8765/callback/other")

    assert_refused_page(response, "The redirect_uri is not registered for this client.")


def test_the_token_endpoint_refuses_with_invalid_client_json(settings, client_host):
    path = client_host.new_path()
    url = client_host.url(path)
    client_host.serve(path, Answer(b"gone", 404, {"Content-Type": "text/plain"}))
    form = {"grant_type": "authorization_code", "code": "c", "code_verifier": "v" * 43, "redirect_uri": REDIRECT_URI, "client_id": url}

    response = httpx.post(f"{settings.issuer}/token", data=form, timeout=10)

    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_client",
        "error_description": f"The client metadata document at {url} could not be fetched: its host answered 404 instead of 200.",
    }


@pytest.mark.parametrize("how", ["basic", "post", "none"])
def test_a_client_known_from_its_document_never_gets_client_credentials(settings, served, how):
    """MCP 2025-11-25 and the draft's section 4.1: such a client has no secret, so it is public;
    public clients act for a person (registration.OPEN) and never use client_credentials."""
    assert_accepted(authorize(settings, served))
    form = {"grant_type": "client_credentials", "resource": settings.resource_url}
    auth = (served, "guessed") if how == "basic" else None
    if how == "post":
        form.update(client_id=served, client_secret="guessed")
    if how == "none":
        form.update(client_id=served)

    response = httpx.post(f"{settings.issuer}/token", data=form, auth=auth, timeout=10)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
