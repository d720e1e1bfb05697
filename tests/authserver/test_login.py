"""Login: argon2 hashes, growing waits after failures, safe redirects, hardened pages and cookies."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

import authserver
from authserver.login_throttle import ACCOUNT_AT_ADDRESS, ADDRESS
from authserver.models import User
from shared.db import db
from tests.browser_forms import FormBrowser, csrf_token
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.usefixtures("live_services")


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


def test_an_account_waits_after_repeated_failures_from_one_address(settings, person):
    browser = FormBrowser(person.email, PASSWORD)
    free = ACCOUNT_AT_ADDRESS.free_failures
    failures = [attempt(browser, settings.issuer, "guess").status_code for _ in range(free)]

    waiting = attempt(browser, settings.issuer, PASSWORD)

    assert failures == [401] * free
    assert waiting.status_code == 429
    assert "Too many failed attempts. Try again in" in waiting.text


def test_a_success_forgets_the_failures_before_it(settings, redis_client, person):
    browser = FormBrowser(person.email, PASSWORD)
    free = ACCOUNT_AT_ADDRESS.free_failures
    before = [attempt(browser, settings.issuer, "guess").status_code for _ in range(free - 1)]
    signed_in = attempt(browser, settings.issuer, PASSWORD)

    after = [attempt(browser, settings.issuer, "guess").status_code for _ in range(free)]

    assert before == [401] * (free - 1)
    assert signed_in.status_code == 302
    assert after == [401] * free


def test_an_address_trying_many_accounts_waits(settings, redis_client, auth_context):
    app = authserver.create_app(replace(settings))
    http = app.test_client()

    def try_login(email: str, password: str) -> int:
        page = http.get("/login")
        form = {"csrf_token": csrf_token(page.get_data(as_text=True)), "email": email, "password": password}
        return http.post("/login", data=form).status_code

    statuses = [try_login(f"user{i}@example.com", "guess") for i in range(ADDRESS.free_failures)]
    person = make_user()

    assert statuses == [401] * ADDRESS.free_failures
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


def test_over_https_a_login_form_is_accepted_with_the_referer_browsers_send_under_our_policy(settings, redis_client):
    """Flask-WTF refuses a form posted over https unless its Referer is this origin, and a browser
    sends a Referer only as Referrer-Policy allows: with no-referrer, no https login could work.
    Under same-origin the form's own page is sent; another origin is sent nothing."""
    issuer = "https://auth.example.com"
    http = authserver.create_app(replace(settings, issuer=issuer)).test_client()
    page = http.get("/login", base_url=issuer)
    form = {"csrf_token": csrf_token(page.get_data(as_text=True)), "email": "nobody@example.com", "password": "wrong"}

    as_sent = http.post("/login", data=form, base_url=issuer, headers={"Referer": f"{issuer}/login"})
    without = http.post("/login", data=form, base_url=issuer)

    assert page.headers["Referrer-Policy"] == "same-origin"
    assert as_sent.status_code == 401  # the form got through to the password check
    assert without.status_code == 400


def test_an_https_issuer_makes_the_session_cookie_secure(settings):
    app = authserver.create_app(replace(settings, issuer="https://auth.example.com"))

    response = app.test_client().get("/login")

    assert "Secure" in response.headers["Set-Cookie"]
