"""Login: argon2 hashes, throttling per account and IP, safe redirects, hardened pages and cookies."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

import authserver
from authserver.models import User
from authserver.passwords import MAX_FAILURES_PER_ACCOUNT
from shared.db import db
from tests.browser_forms import FormBrowser, csrf_token
from tests.factories import PASSWORD, make_user


@pytest.fixture
def person(auth_context):
    return make_user()


def attempt(browser: FormBrowser, issuer: str, password: str, next_url: str = "/"):
    page = browser.http.get(f"{issuer}/login")
    form = {"csrf_token": csrf_token(page.text), "email": browser.email, "password": password, "next": next_url}
    return browser.http.post(f"{issuer}/login", data=form)


def test_passwords_are_stored_as_argon2_hashes(person):
    stored = db.session.scalar(select(User.password_hash).where(User.id == person.id))

    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_a_right_password_signs_in_and_goes_to_next(settings, person):
    response = attempt(FormBrowser(person.email, PASSWORD), settings.issuer, PASSWORD, next_url="/authorize?x=1")

    assert response.status_code == 302
    assert response.headers["Location"] == "/authorize?x=1"


@pytest.mark.parametrize("next_url", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_next_never_leaves_this_server(settings, person, next_url):
    response = attempt(FormBrowser(person.email, PASSWORD), settings.issuer, PASSWORD, next_url=next_url)

    assert response.headers["Location"] == "/"


def test_a_wrong_password_and_an_unknown_account_look_the_same(settings, person):
    wrong = attempt(FormBrowser(person.email, PASSWORD), settings.issuer, "not the password")
    unknown = attempt(FormBrowser("nobody@example.com", PASSWORD), settings.issuer, PASSWORD)

    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong email or password." in wrong.text
    assert "Wrong email or password." in unknown.text


def test_an_account_is_throttled_after_repeated_failures(settings, person):
    browser = FormBrowser(person.email, PASSWORD)
    failures = [attempt(browser, settings.issuer, "guess").status_code for _ in range(MAX_FAILURES_PER_ACCOUNT)]

    blocked = attempt(browser, settings.issuer, PASSWORD)

    assert failures == [401] * MAX_FAILURES_PER_ACCOUNT
    assert blocked.status_code == 429
    assert "Too many failed attempts" in blocked.text


def test_an_ip_is_throttled_across_accounts(settings, redis_client, auth_context, monkeypatch):
    monkeypatch.setattr("authserver.passwords.MAX_FAILURES_PER_IP", 3)
    app = authserver.create_app(replace(settings))
    http = app.test_client()

    def try_login(email: str, password: str) -> int:
        page = http.get("/login")
        form = {"csrf_token": csrf_token(page.get_data(as_text=True)), "email": email, "password": password}
        return http.post("/login", data=form).status_code

    statuses = [try_login(f"user{i}@example.com", "guess") for i in range(3)]
    person = make_user()

    assert statuses == [401, 401, 401]
    assert try_login(person.email, PASSWORD) == 429


def test_pages_carry_the_security_headers(settings):
    page = FormBrowser("a@example.com", PASSWORD).http.get(f"{settings.issuer}/login")

    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'none'" in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"
    cookie = page.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain-http localhost; https issuers get Secure


def test_an_https_issuer_makes_the_session_cookie_secure(settings):
    app = authserver.create_app(replace(settings, issuer="https://auth.example.com"))

    response = app.test_client().get("/login")

    assert "Secure" in response.headers["Set-Cookie"]
