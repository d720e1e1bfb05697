"""The developer portal (views/portal.py, developer_clients.py): who may use it, registering each kind
of client, every form's bad input refused next to its field with nothing stored, the secret shown
once, rotation with a grace, disabling, enabling and deleting, and a client's last 7 days.

That a portal client's secret gets a token and calls a tool at the live MCP server, through a
rotation and a disabling, is walked in Chromium in tests/browser/test_portal_in_chromium.py; that
nobody acts on another developer's client is tests/security/test_portal_ownership.py."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from authserver.models import Client, User
from authserver.oauth.client_secrets import hash_secret
from authserver.users import assign_role
from mcp_resource.models import AuditRecord
from shared.db import db, utcnow
from tests.factories import make_user
from tests.page_browser import Browser, field_errors, text

WEB = {"name": "Blog editor", "kind": "web", "redirect_uris": "https://blog.example.com/callback", "scopes": ["posts:read", "posts:write"]}
MACHINE = {"name": "Nightly job", "kind": "machine", "redirect_uris": "", "scopes": ["posts:read"]}
SECRET = re.compile(r'<code class="secret-value" id="client-secret">([^<]+)</code>')


@pytest.fixture
def developer(person: User) -> User:
    return assign_role(person.email, "developer")


@pytest.fixture
def portal(browser: Browser, developer: User) -> Browser:
    """The signed-in developer's browser."""
    return browser


@pytest.fixture
def no_machine_scopes(auth_app):
    """The default: the operator allows developers no machine client."""
    kept = auth_app.config["SETTINGS"]
    auth_app.config["SETTINGS"] = replace(kept, developer_machine_scopes=())
    yield
    auth_app.config["SETTINGS"] = kept


def clients_named(name: str) -> list[Client]:
    db.session.expire_all()
    return list(db.session.scalars(select(Client).where(Client.client_name == name)))


def client_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Client)) or 0


def shown_secret(response) -> str:
    found = SECRET.findall(response.get_data(as_text=True))
    assert len(found) == 1, "the page shows one secret"
    return found[0]


def register(portal: Browser, **fields):
    return portal.submit("/portal/clients/new", **fields)


def registered(portal: Browser, **fields):
    """The page registering sends the developer to: the new client's, with its secret."""
    response = register(portal, **fields)
    assert response.status_code == 302, response.get_data(as_text=True)
    return portal.get(response.headers["Location"])


@pytest.mark.parametrize("path", ["/portal", "/portal/clients/new", "/portal/clients/cabc"])
def test_somebody_signed_out_is_sent_to_log_in(auth_app, path):
    response = Browser(auth_app).get(path)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("path", ["/portal", "/portal/clients/new"])
def test_a_person_without_the_developer_role_gets_the_403_page(browser, path):
    response = browser.get(path)

    assert response.status_code == 403
    assert "Not for your account" in text(response)
    assert "drawbridge users role EMAIL developer" in text(response)


def test_a_person_without_the_role_cannot_register_either(browser):
    before = client_count()

    response = browser.submit("/portal/clients/new", page="/", **WEB)

    assert response.status_code == 403
    assert client_count() == before


def test_the_navigation_links_the_portal_for_developers(portal):
    assert '<a href="/portal" aria-current="page">Developer portal</a>' in text(portal.get("/portal"))


def test_the_registration_form_offers_each_scope_in_plain_words_and_says_machines_are_the_operators(portal, no_machine_scopes):
    page = text(portal.get("/portal/clients/new"))

    assert "Read the blog's posts, drafts included." in page
    assert "Write, edit and publish blog posts." in page
    assert "lets developers register no machine clients" in page
    assert '<label for="redirect_uris">' in page and '<label for="name">' in page


def test_registering_a_web_app_shows_its_secret_once_and_stores_only_its_hash(portal, developer):
    response = register(portal, **WEB)
    [client] = clients_named("Blog editor")
    page = portal.get(response.headers["Location"])
    secret = shown_secret(page)
    again = portal.get(response.headers["Location"])

    assert response.headers["Location"] == f"/portal/clients/{client.client_id}"
    assert "Copy the secret" in text(page) and "only time it is shown" in text(page)
    assert client.owner_id == developer.id
    assert client.grant_types.split() == ["authorization_code", "refresh_token"]
    assert client.redirect_uris == ["https://blog.example.com/callback"]
    assert client.scope == "posts:read posts:write"
    assert [s.secret_hash for s in client.secrets] == [hash_secret(secret)]
    assert secret not in again.get_data(as_text=True)
    assert "client-secret" not in again.get_data(as_text=True)


def test_the_secret_crosses_the_redirect_encrypted_in_the_session_cookie(auth_app, portal):
    """secret_handoff.py: the cookie carries the secret to its page as AES-GCM ciphertext, never in
    clear (a signed Flask session is only encoded, so anyone holding the cookie could read it)."""
    response = register(portal, **MACHINE)
    cookie = portal.http.get_cookie("drawbridge_session")
    assert cookie is not None
    stored = auth_app.session_interface.get_signing_serializer(auth_app).loads(cookie.value)
    secret = shown_secret(portal.get(response.headers["Location"]))

    assert secret not in str(stored)
    assert set(stored["new_client_secret"]) == {"client_id", "nonce", "ciphertext", "previous_expire_at"}
    assert "new_client_secret" not in auth_app.session_interface.get_signing_serializer(auth_app).loads(
        portal.http.get_cookie("drawbridge_session").value
    )


def test_a_public_app_has_no_secret_and_authenticates_by_pkce(portal):
    page = registered(portal, **{**WEB, "name": "Desktop app", "kind": "public", "redirect_uris": "http://127.0.0.1/callback"})
    [client] = clients_named("Desktop app")

    assert SECRET.search(page.get_data(as_text=True)) is None
    assert client.token_endpoint_auth_method == "none" and client.secrets == []
    assert "Rotate the secret" not in text(page)


def test_a_machine_within_the_allowed_scopes_is_registered(portal, developer):
    page = registered(portal, **MACHINE)
    [client] = clients_named("Nightly job")

    assert shown_secret(page)
    assert client.grant_types == "client_credentials" and client.scope == "posts:read"
    assert "/token" in text(page)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({**WEB, "name": "  "}, "name", "A client needs a name."),
        ({**WEB, "name": "x" * 201}, "name", "at most 200 characters"),
        ({**WEB, "redirect_uris": "http://blog.example.com/callback"}, "redirect_uris", "https"),
        ({**WEB, "redirect_uris": "https://blog.example.com/cb#top"}, "redirect_uris", "fragment"),
        ({**WEB, "redirect_uris": ""}, "redirect_uris", "needs at least one redirect URI"),
        ({**MACHINE, "redirect_uris": "https://x.example.com/cb"}, "redirect_uris", "has no redirect URIs"),
        ({**WEB, "scopes": ["posts:read", "everything"]}, "scopes", "Unknown scopes: everything"),
        ({**WEB, "scopes": []}, "scopes", "at least one scope"),
        ({**MACHINE, "scopes": ["posts:write"]}, "scopes", "not posts:write"),
        ({**WEB, "kind": "robot"}, "kind", "Not a valid choice"),
    ],
    ids=["empty-name", "long-name", "http-redirect", "fragment", "no-redirect", "machine-redirect", "unknown-scope", "no-scope",
         "machine-beyond-allowance", "unknown-kind"],
)
def test_bad_input_is_named_next_to_its_field_and_nothing_is_stored(portal, fields, field, message):
    before = client_count()

    response = register(portal, **fields)

    assert response.status_code == 400
    assert message in field_errors(response)[field]
    assert client_count() == before
    assert re.search(rf'aria-describedby="[^"]*{field}-error"', response.get_data(as_text=True)), "the field points at its message"


def test_the_form_keeps_what_was_typed_and_ticked_through_an_error(portal):
    response = register(portal, **{**WEB, "name": "", "redirect_uris": "https://keep.example.com/cb"})

    page = response.get_data(as_text=True)
    assert "https://keep.example.com/cb" in page
    assert re.search(r'value="posts:write" id="scope-\d+"\s+aria-describedby="scope-\d+-tools" checked', page)


def test_no_machine_client_when_the_operator_allows_none(portal, no_machine_scopes):
    before = client_count()

    response = register(portal, **MACHINE)

    assert response.status_code == 400
    assert "register no machine clients" in field_errors(response)["scopes"]
    assert client_count() == before


def test_registering_without_the_csrf_token_stores_nothing(portal):
    before = client_count()

    response = portal.submit("/portal/clients/new", with_token=False, **WEB)

    assert response.status_code == 400
    assert "This form has expired" in text(response)
    assert client_count() == before


def test_the_index_lists_only_the_developers_own_clients(portal, developer):
    register(portal, **WEB)
    other = make_user()
    assign_role(other.email, "developer")
    theirs = Browser(portal.app)
    theirs.log_in(other.email)
    register(theirs, **{**WEB, "name": "Their editor"})

    page = text(portal.get("/portal"))

    assert "Blog editor" in page and "Their editor" not in page


def test_rotating_shows_the_new_secret_once_and_the_old_ones_grace(portal):
    old = shown_secret(registered(portal, **MACHINE))
    [client] = clients_named("Nightly job")

    rotated = portal.submit(f"/portal/clients/{client.client_id}/secret", page=f"/portal/clients/{client.client_id}", grace_seconds="3600")
    response = portal.get(rotated.headers["Location"])
    new = shown_secret(response)
    db.session.expire_all()
    secrets = {s.secret_hash: s.expires_at for s in client.secrets}

    assert rotated.status_code == 302
    assert new != old
    assert "The old secret keeps working until" in text(response)
    assert secrets[hash_secret(new)] is None
    assert timedelta(minutes=59) < secrets[hash_secret(old)] - utcnow() <= timedelta(hours=1)
    assert "works until" in text(portal.get(f"/portal/clients/{client.client_id}"))


def test_a_grace_not_offered_is_refused_next_to_its_field(portal):
    register(portal, **MACHINE)
    [client] = clients_named("Nightly job")
    hashes = [s.secret_hash for s in client.secrets]

    response = portal.submit(f"/portal/clients/{client.client_id}/secret", page=f"/portal/clients/{client.client_id}", grace_seconds="99")
    db.session.expire_all()

    assert response.status_code == 400
    assert "Not a valid choice" in field_errors(response)["grace_seconds"]
    assert [s.secret_hash for s in client.secrets] == hashes


def test_disabling_and_enabling_a_client(portal):
    register(portal, **MACHINE)
    [client] = clients_named("Nightly job")
    page = f"/portal/clients/{client.client_id}"

    disabled = portal.submit(f"{page}/disable", page=page)
    db.session.expire_all()
    disabled_at = client.disabled_at
    enabled = portal.submit(f"{page}/enable", page=page)
    db.session.expire_all()

    assert disabled.status_code == enabled.status_code == 302
    assert disabled_at is not None and client.disabled_at is None
    assert "is enabled" in text(portal.get(page))


def test_deleting_asks_first_and_then_deletes(portal):
    register(portal, **MACHINE)
    [client] = clients_named("Nightly job")
    path = f"/portal/clients/{client.client_id}/delete"

    asked = portal.get(path)
    kept = clients_named("Nightly job")
    deleted = portal.submit(path)

    assert asked.status_code == 200 and "Delete Nightly job?" in text(asked) and kept
    assert deleted.status_code == 302 and deleted.headers["Location"] == "/portal"
    assert clients_named("Nightly job") == []
    assert "Nightly job is deleted" in text(portal.get("/portal"))


def test_deleting_without_the_csrf_token_keeps_the_client(portal):
    register(portal, **MACHINE)
    [client] = clients_named("Nightly job")

    response = portal.submit(f"/portal/clients/{client.client_id}/delete", with_token=False)

    assert response.status_code == 400
    assert clients_named("Nightly job") != []


def test_the_client_page_shows_its_last_7_days_per_tool(portal):
    register(portal, **MACHINE)
    [client] = clients_named("Nightly job")
    now = utcnow()
    rows = [("list_posts", "ok", 12.0), ("list_posts", "ok", 30.0), ("list_posts", "tool_error", 20.0), ("get_post", "rate_limited", 0.1)]
    for tool, outcome, duration in rows:
        db.session.add(
            AuditRecord(at=now - timedelta(minutes=3), client_id=client.client_id, subject=client.client_id, tool=tool, outcome=outcome,
                        duration_ms=duration, request_id="r", rate_limit="client" if outcome == "rate_limited" else None)
        )
    db.session.add(AuditRecord(at=now - timedelta(days=8), client_id=client.client_id, subject="s", tool="list_posts", outcome="ok", duration_ms=1, request_id="r"))
    db.session.commit()

    page = text(portal.get(f"/portal/clients/{client.client_id}"))

    assert "Tool calls: 4 · errors: 1 · refused by a rate limit: 1" in page
    assert "<th scope=\"row\">list_posts</th><td>3</td><td>1</td><td>0</td><td>29 ms</td>" in page
    assert "<th scope=\"row\">get_post</th><td>1</td><td>0</td><td>1</td><td>–</td>" in page
    assert '<svg class="chart"' in page


def test_pages_carry_a_csp_that_runs_only_our_own_script_files(portal):
    register(portal, **MACHINE)
    [client] = clients_named("Nightly job")

    response = portal.get(f"/portal/clients/{client.client_id}")

    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    assert '<script src="/static/copy.js" defer></script>' in response.get_data(as_text=True)
    assert "<script>" not in response.get_data(as_text=True)
