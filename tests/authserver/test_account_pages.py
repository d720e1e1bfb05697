"""The person's own pages (views/account.py): the home page, changing the password, signing out,
and the navigation their roles open."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

import authserver
from authserver.models import User
from authserver.users import assign_role
from authserver.views import layout
from shared.db import db
from tests.factories import PASSWORD, make_app_client, make_person_tokens, make_user
from tests.page_browser import Browser, field_errors, text

NEW_PASSWORD = "a brand new passphrase"


def stored_hash(user: User) -> str:
    db.session.expire_all()
    return db.session.scalar(select(User.password_hash).where(User.id == user.id))


@pytest.mark.parametrize("path", ["/", "/account/password", "/account/apps"])
def test_the_account_pages_send_somebody_signed_out_to_log_in_and_back(auth_app, person, path):
    visitor = Browser(auth_app)

    sent = visitor.get(path)
    login = "/login" if path == "/" else f"/login?next={path}"
    back = visitor.submit(login, email=person.email, password=PASSWORD)

    assert sent.status_code == 302
    assert sent.headers["Location"] == ("/login" if path == "/" else f"/login?next={path}")
    assert back.headers["Location"] == path


def test_the_home_page_says_who_is_signed_in_and_what_they_connected_without_an_error_box(settings, browser, person):
    app = make_app_client()
    make_person_tokens(settings, app.client.client_id, person)

    page = browser.get("/")

    assert page.status_code == 200
    assert person.email in text(page)
    assert app.client.client_name in text(page)
    assert 'class="error"' not in text(page)
    assert 'action="/logout"' in text(page)


def test_the_navigation_shows_a_roles_page_only_once_it_exists_and_only_to_those_holding_the_role(
    settings, commits, auth_context, monkeypatch
):
    """Developers see the developer portal's link, admins the admin console's, other people
    neither; a link whose page no blueprint registers is shown to nobody."""
    admin, developer, somebody = make_user(), make_user(), make_user()
    assign_role(admin.email, "admin")
    assign_role(developer.email, "developer")
    monkeypatch.setattr(layout, "NAVIGATION", (*layout.NAVIGATION, layout.NavLink("Not built yet", "later.index", role="developer")))
    app = authserver.create_app(replace(settings))
    as_admin, as_developer, as_somebody = Browser(app), Browser(app), Browser(app)
    as_admin.log_in(admin.email)
    as_developer.log_in(developer.email)
    as_somebody.log_in(somebody.email)
    admins, developers, somebodys = (text(browser.get("/")) for browser in (as_admin, as_developer, as_somebody))

    assert '<a href="/admin/">Admin console</a>' in admins and "Developer portal" not in admins
    assert '<a href="/portal">Developer portal</a>' in developers and "Admin console" not in developers
    assert "Developer portal" not in somebodys and "Admin console" not in somebodys and 'href="/account/apps"' in somebodys
    assert "Not built yet" not in developers


def test_a_new_password_ends_every_other_session_and_keeps_this_one(browser, auth_app, person):
    elsewhere = Browser(auth_app)
    elsewhere.log_in(person.email)

    changed = browser.submit(
        "/account/password", current_password=PASSWORD, new_password=NEW_PASSWORD, new_password_again=NEW_PASSWORD
    )

    assert changed.status_code == 302 and changed.headers["Location"] == "/"
    home = browser.get("/")
    assert home.status_code == 200
    assert '<p class="notice" role="status">Your password is changed.' in text(home)
    assert elsewhere.get("/").status_code == 302  # signed out there
    Browser(auth_app).log_in(person.email, NEW_PASSWORD)


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({}, {"current_password": "Enter your current password.", "new_password": "Enter a new password.",
              "new_password_again": "Enter the new password again."}),
        ({"current_password": "wrong password", "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
         {"current_password": "This is not your current password."}),
        ({"current_password": PASSWORD, "new_password": "short", "new_password_again": "short"},
         {"new_password": "The password needs at least 12 characters."}),
        ({"current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD + "!"},
         {"new_password_again": "The two new passwords differ."}),
    ],
    ids=["empty", "wrong-current", "too-short", "different-twice"],
)
def test_a_password_change_with_a_mistake_says_it_next_to_the_field_and_changes_nothing(browser, person, fields, errors):
    before = stored_hash(person)

    response = browser.submit("/account/password", **fields)

    assert response.status_code == 400
    assert field_errors(response) == errors
    assert stored_hash(person) == before
    assert browser.get("/").status_code == 200  # still signed in


def test_a_password_change_without_the_forms_csrf_token_is_refused_and_changes_nothing(browser, person):
    """OWASP ASVS 4.0.3 V4.2.2: "Verify that the application or framework enforces a strong
    anti-CSRF mechanism to protect authenticated functionality"."""
    before = stored_hash(person)

    response = browser.submit("/account/password", with_token=False, current_password=PASSWORD, new_password=NEW_PASSWORD,
                              new_password_again=NEW_PASSWORD)

    assert response.status_code == 400
    assert "This form has expired" in text(response)
    assert 'href="/account/password"' in text(response)  # where to carry on
    assert stored_hash(person) == before


def test_get_logout_asks_and_post_logout_signs_out(browser):
    asked = browser.get("/logout")

    assert asked.status_code == 200
    assert asked.headers["Content-Type"].startswith("text/html")
    assert "Sign out of Drawbridge?" in text(asked)
    assert browser.get("/").status_code == 200  # a GET signs nobody out
    signed_out = browser.submit("/logout")
    assert signed_out.headers["Location"] == "/login"
    assert "You are signed out" in text(browser.get("/login"))
    assert browser.get("/").status_code == 302


def test_logout_without_the_csrf_token_signs_nobody_out(browser):
    """A page elsewhere must not sign the person out (login CSRF's twin: OWASP's "logout CSRF")."""
    response = browser.submit("/logout", with_token=False)

    assert response.status_code == 400
    assert browser.get("/").status_code == 200


def test_a_login_with_an_empty_field_says_so_next_to_it(auth_app):
    response = Browser(auth_app).submit("/login", email="", password="")

    assert response.status_code == 400
    assert field_errors(response) == {"email": "Enter your email.", "password": "Enter your password."}


def test_every_page_forbids_framing_and_inline_scripts(auth_app, browser):
    """RFC 9700 section 4.16: "Authorization servers MUST prevent clickjacking attacks" and "SHOULD
    also use Content Security Policy (CSP) level 2 or greater": frame-ancestors 'none', on every
    page a person can open, signed in or not. Scripts run only from our own files (the portal's copy
    button), never inline."""
    paths = [r.rule for r in auth_app.url_map.iter_rules() if "GET" in (r.methods or ()) and not r.arguments]

    pages = [(path, browser.get(path)) for path in paths] + [("/login", Browser(auth_app).get("/login"))]

    html_pages = [(path, page) for path, page in pages if page.headers["Content-Type"].startswith("text/html")]
    assert {"/", "/account/password", "/account/apps", "/logout", "/login"} <= {path for path, _ in html_pages}
    for path, page in html_pages:
        policy = page.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy, path
        assert "script-src 'self';" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy, path
