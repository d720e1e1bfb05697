"""Client ID Metadata Documents make this server fetch a URL a stranger names: it must never be
turned against the network it stands in (SSRF), follow a redirect, trust an unverified host or
fetch without bound (draft-ietf-oauth-client-id-metadata-document-01 sections 4 and 6.5)."""

from __future__ import annotations

import html
import json
import threading
import time
from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import update

import authserver
from authserver.models import Client
from authserver.oauth.cimd_fetch import DocumentFetcher, FetchError
from shared.cli import cli, create_cli_app
from shared.db import db, utcnow
from tests.browser_forms import FormBrowser, query
from tests.client_host import ADDRESS, ALLOWED_HOST, Answer, ClientHost
from tests.factories import PASSWORD, make_user, pkce_pair

REDIRECT_URI = "http://127.0.0.1:8765/callback"


def authorize_url(settings, client_id: str, redirect_uri: str = REDIRECT_URI) -> str:
    _, challenge = pkce_pair()
    params = {
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": "posts:read",
        "state": "s", "resource": settings.resource_url, "code_challenge": challenge, "code_challenge_method": "S256",
    }
    return f"{settings.issuer}/authorize?{urlencode(params)}"


def document(url: str, redirect_uri: str = REDIRECT_URI) -> dict:
    return {"client_id": url, "client_name": "Documented client", "redirect_uris": [redirect_uri], "token_endpoint_auth_method": "none"}


def hold_fetches(settings, client_host: ClientHost, count: int) -> None:
    """`count` requests naming documents whose hosts send their answers a byte at a time (slow
    loris), left running; returns once at least ten of them have reached the host."""
    paths = [client_host.new_path() for _ in range(count)]
    for path in paths:
        client_host.serve(path, Answer(b"{}", trickle_seconds=0.5))

    def ask(path: str) -> None:
        try:
            httpx.get(authorize_url(settings, client_host.url(path)), timeout=3)
        except httpx.HTTPError:  # given up on, or cut when the session's server stops
            pass

    for path in paths:
        threading.Thread(target=ask, args=(path,), daemon=True).start()
    deadline = time.monotonic() + 10
    while sum(client_host.hits.get(path, 0) for path in paths) < 10 and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("host", "kind", "address"),
    [
        (ADDRESS, "a loopback address", ADDRESS),
        ("[::1]", "a loopback address", "::1"),
        ("[::ffff:7f00:1]", "a loopback address", "::ffff:127.0.0.1"),
        ("169.254.169.254", "a link-local address", "169.254.169.254"),
        ("10.0.0.1", "a private address", "10.0.0.1"),
        ("0.0.0.0", "a private address", "0.0.0.0"),
        ("100.64.0.1", "a special-use address", "100.64.0.1"),
        # Not global although some Pythons' ipaddress says so (3.11.7 does): the local-use NAT64
        # prefix (RFC 8215), which reaches the operator's own IPv4 network; the IPv4-compatible and
        # IPv4-translated forms; site-local (RFC 3879); 6to4 (RFC 7526); documentation (RFC 9637);
        # SRv6 (RFC 9602). A public host has a global unicast address, in 2000::/3 (RFC 4291 2.4).
        ("[64:ff9b:1::a00:1]", "a special-use address", "64:ff9b:1::a00:1"),
        ("[::7f00:1]", "a special-use address", "::127.0.0.1"),
        ("[::ffff:0:7f00:1]", "a special-use address", "::ffff:0:7f00:1"),
        ("[fec0::1]", "a special-use address", "fec0::1"),
        ("[2002:a00:1::]", "a special-use address", "2002:a00:1::"),
        ("[3fff::1]", "a special-use address", "3fff::1"),
        ("[5f00::1]", "a special-use address", "5f00::1"),
    ],
)
def test_documents_on_special_use_addresses_are_never_fetched(settings, live_services, client_host: ClientHost, host, kind, address):
    """draft-ietf-oauth-client-id-metadata-document-01 section 6.5: "Authorization servers MUST
    validate that the Client ID Metadata Document URL does not resolve to special-use IP addresses
    as defined in RFC 6890". Only hosts in DRAWBRIDGE_CIMD_ALLOWED_HOSTS (here: localhost) are
    exempt; the same document on 127.0.0.1 is refused, and no request reaches the host."""
    path = client_host.new_path()
    url = client_host.url(path, host=host)
    client_host.serve_document(path, document(url))

    response = httpx.get(authorize_url(settings, url), timeout=10)

    assert response.status_code == 400 and "Location" not in response.headers
    assert (
        f"The client metadata document at {url} is on {kind} ({address}); this server fetches client metadata "
        "documents only from public addresses."
    ) in html.unescape(response.text)
    assert client_host.hits == {}


def test_a_name_resolving_to_a_loopback_address_is_refused_where_the_connection_is_made(client_host: ClientHost):
    """Section 6.5 again, against DNS rebinding: the addresses are checked in the step that
    connects, and the connection goes to an address checked, so no second lookup can swap a public
    answer for a private one. `localhost` is a name; without the operator's leave, it is refused."""
    path = client_host.new_path()
    client_host.serve_document(path, document(client_host.url(path)))

    with pytest.raises(FetchError) as refused:
        DocumentFetcher(allowed_hosts=(), timeout_seconds=2).fetch(ALLOWED_HOST, client_host.port, path)

    assert refused.value.reason.startswith("is on a loopback address (")
    assert not refused.value.transient
    assert client_host.hits == {}


def test_the_hosts_certificate_is_verified(client_host: ClientHost):
    """An allowed host still needs a certificate the server trusts: this process trusts only the
    system's CAs, not the test CA the live server is given (SSL_CERT_FILE)."""
    path = client_host.new_path()
    client_host.serve_document(path, document(client_host.url(path)))

    with pytest.raises(FetchError) as refused:
        DocumentFetcher(allowed_hosts=(ALLOWED_HOST,), timeout_seconds=2).fetch(ALLOWED_HOST, client_host.port, path)

    assert refused.value.reason == "could not be fetched: its host's TLS certificate could not be verified"
    assert client_host.hits == {}


def test_redirects_are_never_followed(settings, live_services, client_host: ClientHost):
    """Section 4: "The authorization server MUST NOT automatically follow HTTP redirects when
    retrieving the client registration information." A redirect could lead past the address check."""
    path, target = client_host.new_path(), client_host.new_path()
    url = client_host.url(path)
    client_host.serve(path, Answer(b"", 307, {"Location": client_host.url(target)}))
    client_host.serve_document(target, document(url))

    response = httpx.get(authorize_url(settings, url), timeout=10)

    assert response.status_code == 400
    assert "its host answered 307, a redirect, which is not followed." in html.unescape(response.text)
    assert client_host.hits == {path: 1}


def test_fetches_made_for_one_address_are_limited(settings):
    """Each document fetched is a request this server sends for whoever asked: they count against
    the asking address with DRAWBRIDGE_REGISTRATIONS_PER_IP_PER_HOUR, then 429."""
    app = authserver.create_app(replace(settings, registrations_per_ip_per_hour=2))
    browser = app.test_client()
    asker = {"REMOTE_ADDR": "192.0.2.77"}  # TEST-NET-1: no other test asks from it

    answers = [
        browser.get(authorize_url(settings, f"https://10.0.0.1/{n}/client.json"), environ_base=asker).get_data(as_text=True)
        for n in range(2)
    ]
    third = browser.get(authorize_url(settings, "https://10.0.0.1/2/client.json"), environ_base=asker)

    assert all("is on a private address (10.0.0.1)" in answer for answer in answers)
    assert third.status_code == 429
    assert "Too many client metadata documents were fetched for this address; retry later." in third.get_data(as_text=True)


def test_a_malformed_age_header_is_ignored_not_a_server_error(settings, live_services, client_host: ClientHost):
    """RFC 9111 section 5.1: "Age = delta-seconds", and section 1.2.2: "delta-seconds = 1*DIGIT",
    ASCII digits only (RFC 5234 appendix B.1). A host that sends another digit (the header is read
    as latin-1, where "²" is a digit to Python) is the one a stranger names: its answer must never
    make a 500 ("no 500 for anything a client can send"). The value is ignored, as any unreadable Age."""
    path = client_host.new_path()
    url = client_host.url(path)
    client_host.serve_document(path, document(url), **{"Cache-Control": "max-age=600", "Age": "\u00b2"})

    response = httpx.get(authorize_url(settings, url), timeout=10)

    assert response.status_code == 302 and "/login" in response.headers["Location"], response.text


def keep_then_remove_redirect_uri(settings, client_host: ClientHost) -> str:
    """A document's URL whose copy is kept here, no longer fresh, while the document itself has
    since dropped REDIRECT_URI (its owner no longer trusts it): only the old copy allows it."""
    path = client_host.new_path()
    url = client_host.url(path)
    client_host.serve_document(path, document(url), **{"Cache-Control": "max-age=600"})
    kept = httpx.get(authorize_url(settings, url), timeout=10)
    assert kept.status_code == 302 and "/login" in kept.headers["Location"], kept.text
    client_host.serve_document(path, document(url, redirect_uri="http://127.0.0.1:8765/new-callback"))
    db.session.execute(update(Client).where(Client.client_id == url).values(document_fresh_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    return url


def test_slow_document_hosts_cannot_make_another_host_look_down(settings, live_services, auth_context, client_host: ClientHost):
    """Section 4.4 lets a copy be kept; here it stands in only while its host cannot be reached
    (a FetchError marked transient). The copy of a document whose owner has since removed a
    redirect URI must not come back into force because a stranger's slow hosts hold every
    connection this server would fetch with: the answer is the current document's, and that
    redirect URI is refused (MCP 2025-11-25: the server "MUST validate redirect URIs presented in an
    authorization request against those in the metadata document")."""
    url = keep_then_remove_redirect_uri(settings, client_host)
    hold_fetches(settings, client_host, 12)

    response = httpx.get(authorize_url(settings, url), timeout=10)

    assert response.status_code == 400, response.headers.get("Location")
    assert "The redirect_uri is not registered for this client." in html.unescape(response.text)


@pytest.mark.parametrize("status", [429, 503])
def test_an_error_answer_never_brings_back_an_old_copy(settings, live_services, auth_context, client_host: ClientHost, status):
    """RFC 9111 section 4.2.4 (the draft's section 4.4: the server "SHOULD respect HTTP cache
    headers"): "A cache MUST NOT send stale responses unless it is disconnected or doing so is
    explicitly permitted by the client or origin server". A host that answers is not disconnected;
    and 429 or 503 is what a rate-limiting host or its firewall answers this server once a stranger's
    requests here made it fetch enough of that host's URLs. The draft's section 4.3: "If fetching
    the metadata document fails, the authorization server SHOULD abort the authorization request"."""
    url = keep_then_remove_redirect_uri(settings, client_host)
    client_host.serve(url.removeprefix(client_host.url("")), Answer(b"busy", status, {"Content-Type": "text/plain"}))

    response = httpx.get(authorize_url(settings, url), timeout=10)

    assert response.status_code == 400, response.headers.get("Location")
    assert f"could not be fetched: its host answered {status} instead of 200." in html.unescape(response.text)


def test_a_host_sending_its_answer_a_byte_at_a_time_is_cut_off_at_the_time_out(settings, live_services, client_host: ClientHost):
    """Section 6.6: the server limits what it fetches "to avoid denial of service attacks against the
    authorization server by consuming excessive resources"; the MCP specification (2025-11-25,
    "Authorization Server Abuse Protection") warns that it fetches URLs "from an unknown client". A
    time-out per read lets a host that sends a byte just within it (slow loris) hold the request,
    its connection and the fetch for as long as it likes: the whole fetch is bounded instead."""
    path = client_host.new_path()
    url = client_host.url(path)
    client_host.serve(path, Answer(json.dumps(document(url)).encode(), trickle_seconds=0.5))
    started = time.monotonic()

    response = httpx.get(authorize_url(settings, url), timeout=60)

    assert time.monotonic() - started < settings.cimd_fetch_timeout_seconds + 2  # a margin for a loaded machine
    assert response.status_code == 400
    assert f"could not be fetched: its host did not answer within {settings.cimd_fetch_timeout_seconds} s." in html.unescape(response.text)


def test_a_disabled_client_stays_disabled_through_clients_prune(settings, live_services, auth_context, client_host: ClientHost):
    """MCP 2025-11-25, "Trust Policies": "Servers maintain full control over their access policies";
    the draft's section 6.8 lets the server have "its own heuristics and policies around the trust of
    domain names used as client IDs". `drawbridge clients disable` is that control for a client known
    from its document. Pruning removes unused clients, and one known from a document comes back at
    its next use: a disabled one, unused since it was disabled, must not come back enabled."""
    path = client_host.new_path()
    url = client_host.url(path)
    client_host.serve_document(path, document(url))
    first = httpx.get(authorize_url(settings, url), timeout=10)
    assert first.status_code == 302 and "/login" in first.headers["Location"], first.text
    runner = create_cli_app(settings).test_cli_runner()
    assert runner.invoke(cli, ["clients", "disable", url], catch_exceptions=False).exit_code == 0
    db.session.execute(update(Client).where(Client.client_id == url).values(created_at=utcnow() - timedelta(days=91)))
    db.session.commit()

    pruned = runner.invoke(cli, ["clients", "prune", "--unused-days", "90"], catch_exceptions=False)
    response = httpx.get(authorize_url(settings, url), timeout=10)

    assert pruned.exit_code == 0
    assert response.status_code == 400, response.headers.get("Location")
    assert "Location" not in response.headers
    assert "The client does not exist on this server." in html.unescape(response.text)


def test_a_remembered_consent_never_sends_a_code_to_a_loopback_port_unasked(settings, live_services, auth_context, client_host: ClientHost):
    """MCP 2025-11-25, "Localhost Redirect URI Risks": "An attacker can claim to be any client by:
    Providing the legitimate client's metadata URL as their client_id; Binding to any localhost port,
    and providing that address as the redirect_uri"; the server "SHOULD display additional warnings
    for localhost-only redirect URIs". RFC 8252 section 8.6: the server "SHOULD NOT process
    authorization requests automatically without user consent or interaction, except when the
    identity of the client can be assured. This includes the case where the user has previously
    approved an authorization request for a given client id". A document's URL is public: any
    program on the person's computer can name it, so the person is asked again, warned."""
    path = client_host.new_path()
    url = client_host.url(path)
    client_host.serve_document(path, document(url), **{"Cache-Control": "max-age=600"})
    browser = FormBrowser(make_user().email, PASSWORD)
    assert "code" in query(browser.consent(authorize_url(settings, url)))

    impostor = browser.http.get(authorize_url(settings, url, redirect_uri="http://127.0.0.1:47999/callback"))
    again = browser.http.get(authorize_url(settings, url))

    for page in (impostor, again):
        assert page.status_code == 200, page.headers.get("Location")
        assert 'name="granted"' in page.text
        assert "That address is on your own computer: allow this only if you started the app yourself." in page.text


@pytest.mark.parametrize("host", ["app..example.com", ".example.com", "x" * 64 + ".example.com"])
def test_a_host_name_that_cannot_be_looked_up_is_refused_without_a_traceback(settings, live_services, host):
    """RFC 1035 section 2.3.4: labels are "63 octets or less", and none is empty but the root's; a
    browser still reads such a host (WHATWG URL). Refused as a name that does not resolve, with
    nothing but our JSON lines in the log (DESIGN: "JSON logs with request ids"): no traceback
    printed by gevent's resolver thread, which a stranger could have us write on every request."""
    url = f"https://{host}/client.json"
    logged_before = len(live_services.auth.log_path.read_text())

    response = httpx.get(authorize_url(settings, url), timeout=10)

    assert response.status_code == 400
    assert f"The client metadata document at {url} could not be fetched: its host {host} could not be resolved." in html.unescape(response.text)
    assert "Traceback" not in live_services.auth.log_path.read_text()[logged_before:]
