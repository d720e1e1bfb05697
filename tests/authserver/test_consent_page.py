"""What the consent page (views/consent.py) tells a person before they decide: who is asking and
whether anybody vouched for it, for which resource and how long, which permissions write; and that
their choices survive an expired form. The login page on the way names the app too."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from flask import Flask

import authserver
from authserver.client_specs import WEB_APP
from authserver.models import User
from shared.db import db
from tests.authserver.test_authorization_code import REDIRECT_URI, authorize_url
from tests.browser_forms import csrf_token
from tests.factories import PASSWORD, make_app_client, make_client, make_user, pkce_pair
from tests.page_browser import Browser, text

_CHECKBOX = re.compile(r'<input type="checkbox" name="granted" value="([^"]+)"[^>]*?( checked)?>')


@pytest.fixture
def person(auth_context) -> User:
    return make_user()


@pytest.fixture
def browser(auth_app: Flask, person) -> Browser:
    browser = Browser(auth_app)
    browser.log_in(person.email)
    return browser


def consent_path(settings, client_id: str, scope: str = "posts:read posts:write") -> str:
    _, challenge = pkce_pair()
    return authorize_url(settings, client_id, challenge, scope=scope).removeprefix(settings.issuer)


def ticked(page: str) -> dict[str, bool]:
    return {name: bool(checked) for name, checked in _CHECKBOX.findall(page)}


def test_an_app_that_registered_itself_is_marked_unverified_and_an_operators_is_not(settings, browser):
    registered = make_app_client()
    operators = make_client(kind=WEB_APP, redirect_uris=(REDIRECT_URI,))

    self_named = text(browser.get(consent_path(settings, registered.client.client_id)))
    vouched = text(browser.get(consent_path(settings, operators.client.client_id)))

    assert 'id="unverified"' in self_named and "registered itself and chose its own name" in self_named
    assert 'id="unverified"' not in vouched and "Unverified" not in vouched


def test_the_page_names_the_resource_and_how_long_access_lasts(settings, browser):
    with_refresh = make_app_client()
    without_refresh = make_client(kind=WEB_APP, redirect_uris=(REDIRECT_URI,))
    without_refresh.client.grant_types = "authorization_code"
    db.session.commit()

    lasting = text(browser.get(consent_path(settings, with_refresh.client.client_id)))
    short = text(browser.get(consent_path(settings, without_refresh.client.client_id)))

    assert f'id="resource">{settings.resource_url}<' in lasting
    assert "lasts until you disconnect it under Connected apps, or until it goes 30 days without using it" in lasting
    assert f"its access lasts {settings.access_token_ttl_seconds // 60} minutes" in short


def test_permissions_that_write_are_marked_and_not_ticked_in_advance(settings, browser):
    client = make_app_client(scope="posts:read posts:write orders:read orders:write")

    asked = "posts:read posts:write orders:read orders:write"
    page = text(browser.get(consent_path(settings, client.client.client_id, scope=asked)))

    assert ticked(page) == {"orders:read": True, "orders:write": False, "posts:read": True, "posts:write": False}
    assert page.count("Can change data") == 1  # posts:write: create, update, publish
    assert page.count("Can delete data") == 1  # orders:write: cancel_order is destructive


def test_an_expired_consent_form_keeps_the_persons_choices_and_says_what_to_do(settings, browser):
    """The form's CSRF token is checked (a forged or stale form decides nothing: no code is sent),
    and the page comes back as the person left it."""
    client = make_app_client()
    path = consent_path(settings, client.client.client_id)

    response = browser.post(path, {"csrf_token": "expired", "decision": "approve", "granted": ["posts:write"]})

    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "This page was open too long, so nothing was sent" in text(response)
    assert ticked(text(response)) == {"posts:read": False, "posts:write": True}


def test_the_login_page_says_which_app_is_asking(settings, auth_app, auth_context):
    client = make_app_client()
    path = consent_path(settings, client.client.client_id)
    visitor = Browser(auth_app)

    login = text(visitor.get(visitor.get(path).headers["Location"]))
    plain = text(visitor.get("/login"))

    assert f'id="asking-client">{client.client.client_name}<' in login
    assert "Unverified app" in login
    assert 'id="asking"' not in plain


def test_head_on_the_consent_page_decides_nothing(settings, browser):
    client = make_app_client()
    path = consent_path(settings, client.client.client_id)

    head = browser.head(path)

    assert head.status_code == 200 and head.get_data() == b""
    assert browser.get(path).status_code == 200  # still asking: nothing was remembered


def test_over_https_the_consent_form_is_held_to_the_referer_check_every_form_is(settings, commits, auth_context):
    """The consent view runs CSRFProtect's check itself: over https that includes Flask-WTF's
    Referer check (WTF_CSRF_SSL_STRICT), so a valid token posted from elsewhere decides nothing."""
    issuer = "https://auth.example.com"
    app = authserver.create_app(replace(settings, issuer=issuer))
    person, client = make_user(), make_app_client()
    http = app.test_client()
    own = {"Referer": f"{issuer}/login"}
    page = http.get("/login", base_url=issuer)
    form = {"csrf_token": csrf_token(page.get_data(as_text=True)), "email": person.email, "password": PASSWORD}
    assert http.post("/login", data=form, base_url=issuer, headers=own).status_code == 302
    path = consent_path(settings, client.client.client_id)
    token = csrf_token(http.get(path, base_url=issuer).get_data(as_text=True))
    decision = {"csrf_token": token, "decision": "approve", "granted": ["posts:read"]}

    foreign = http.post(path, data=decision, base_url=issuer, headers={"Referer": "https://evil.example/"})
    approved = http.post(path, data=decision, base_url=issuer, headers={"Referer": f"{issuer}{path}"})

    assert foreign.status_code == 400 and "Location" not in foreign.headers
    assert "This page was open too long, so nothing was sent" in " ".join(foreign.get_data(as_text=True).split())
    assert approved.status_code == 302 and "code=" in approved.headers["Location"]
