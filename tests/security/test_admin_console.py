"""The admin console under attack: who may reach its pages and take its actions.

Issue #22: "Admin console (admin role): clients, people (roles, disable), grants, signing keys
(rotate), registration tokens, rate-limit policies, tool switches". OWASP ASVS 4.0.3 V4.1.3: "Verify
that the principle of least privilege exists - users should only be able to access functions, data
files, URLs, controllers, services, and other resources, for which they possess specific
authorization." V4.2.2: state-changing requests are protected against CSRF. So every admin address,
present and future (the test walks the URL map), refuses anybody without the admin role: a
developer's role is not enough, and neither is an admin role taken away a moment ago."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from authserver.client_summaries import describe_client
from authserver.models import User
from authserver.users import disable_user, remove_role
from shared.db import db
from tests.browser_forms import csrf_token
from tests.factories import make_client, make_user
from tests.page_browser import Browser, text

_PLACEHOLDER = re.compile(r"<(?:\w+:)?(\w+)>")


def admin_addresses(app: Flask, client_id: str, email: str) -> list[tuple[str, str]]:
    """(method, path) of every admin view, its placeholders filled with things that exist."""
    values = {"client_id": client_id, "email": email, "role": "admin", "grant_id": "g", "token_id": "1", "name": "list_posts"}
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin.") and rule.methods:
            path = _PLACEHOLDER.sub(lambda m: values[m.group(1)], rule.rule)
            found += [(method, path) for method in sorted(rule.methods & {"GET", "POST"})]
    return found


def test_a_developer_reaches_no_admin_page_and_takes_no_admin_action(auth_app, auth_context):
    developer = make_user(roles=("developer",))
    client_id = make_client(rate_limit=7).client.client_id
    browser = Browser(auth_app)
    browser.log_in(developer.email)
    token = csrf_token(browser.get("/").get_data(as_text=True))
    addresses = admin_addresses(auth_app, client_id, developer.email)

    answers = {
        (method, path): (browser.get(path) if method == "GET" else browser.post(path, {"csrf_token": token, "per_minute": "1"}))
        for method, path in addresses
    }

    assert len(addresses) > 20
    assert {address: r.status_code for address, r in answers.items() if r.status_code != 403} == {}
    assert all("This page is for people with the admin role." in text(r) for r in answers.values())
    assert describe_client(client_id).disabled_at is None and describe_client(client_id).rate_limit_per_minute == 7
    db.session.expire_all()
    assert [r.role for r in developer.roles] == ["developer"] and developer.disabled_at is None


@pytest.fixture
def admin(auth_context) -> User:
    return make_user(roles=("admin",))


@pytest.fixture
def admin_browser(auth_app, admin) -> Browser:
    browser = Browser(auth_app)
    browser.log_in(admin.email)
    return browser


def test_an_admin_role_taken_away_counts_from_the_next_request(auth_app, admin, admin_browser):
    assert admin_browser.get("/admin/clients").status_code == 200

    remove_role(admin.email, "admin")

    assert admin_browser.get("/admin/clients").status_code == 403


def test_a_disabled_admins_session_reaches_nothing(auth_app, admin, admin_browser):
    disable_user(admin.email)

    response = admin_browser.get("/admin/")

    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("path", ["/admin/keys/rotate", "/admin/tools/list_posts/off", "/admin/registration-tokens"])
def test_an_admins_action_without_the_forms_csrf_token_is_refused(admin_browser, path):
    response = admin_browser.post(path, {"scopes": "posts:read", "expires_in": "3600"})

    assert response.status_code == 400 and "This form has expired" in text(response)


def test_a_new_registration_token_is_never_put_in_the_session_cookie(admin_browser):
    response = admin_browser.submit("/admin/registration-tokens", scopes="posts:read", expires_in="3600")

    token = response.get_data(as_text=True).split('readonly value="')[1].split('"')[0]
    assert all(token not in header for header in response.headers.getlist("Set-Cookie"))
    assert response.headers["Cache-Control"] == "no-store"
