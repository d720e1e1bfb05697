"""A person's own account in a real headless Chromium: logging in by keyboard, the home page,
changing the password (with every mistake said next to its field), signing out, and the error pages."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page
from sqlalchemy import select

from authserver.models import User
from authserver.users import assign_role
from shared.db import db
from tests.browser.conftest import look_at
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.usefixtures("live_services")

NEW_PASSWORD = "a brand new passphrase"


def password_hash(user_id: int) -> str:
    db.session.expire_all()
    return db.session.scalar(select(User.password_hash).where(User.id == user_id))


def test_a_person_logs_in_by_keyboard_and_finds_their_home(settings, auth_context, page: Page, axe):
    person = make_user()
    assign_role(person.email, "developer")

    page.goto(f"{settings.issuer}/")
    assert page.url == f"{settings.issuer}/login"
    assert page.evaluate("document.activeElement.id") == "email"  # ready to type
    page.keyboard.type(person.email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")

    page.wait_for_url(f"{settings.issuer}/")
    assert page.inner_text("h1") == "Your account"
    assert page.inner_text("#account-email") == person.email
    assert page.inner_text("#account-roles") == "developer"
    assert page.locator(".error").count() == 0  # signing in is not an error
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link").all_inner_texts() == ["Account", "Connected apps", "Developer portal"]
    page.keyboard.press("Tab")  # the first stop on every page skips the header
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")
    look_at(page, "home")


def test_a_person_changes_their_password_after_each_mistake_is_named_next_to_its_field(settings, auth_context, page: Page, axe):
    person = make_user()
    before = password_hash(person.id)
    page.goto(f"{settings.issuer}/login")
    page.fill("#email", person.email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Change your password").click()
    look_at(page, "password")

    page.get_by_role("button", name="Change password").click()
    assert page.inner_text("#current_password-error") == "Enter your current password."
    assert page.inner_text("#new_password-error") == "Enter a new password."
    assert page.get_attribute("#current_password", "aria-describedby") == "current_password-error"
    look_at(page, "password-empty")

    page.fill("#current_password", "not my password")
    page.fill("#new_password", NEW_PASSWORD)
    page.fill("#new_password_again", NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    assert page.inner_text("#current_password-error") == "This is not your current password."

    page.fill("#current_password", PASSWORD)
    page.fill("#new_password", "short")
    page.fill("#new_password_again", "short")
    page.get_by_role("button", name="Change password").click()
    assert "at least 12 characters" in page.inner_text("#new_password-error")

    page.fill("#current_password", PASSWORD)
    page.fill("#new_password", NEW_PASSWORD)
    page.fill("#new_password_again", NEW_PASSWORD + "!")
    page.get_by_role("button", name="Change password").click()
    assert page.inner_text("#new_password_again-error") == "The two new passwords differ."
    assert password_hash(person.id) == before  # no mistake changed anything

    page.fill("#current_password", PASSWORD)
    page.fill("#new_password", NEW_PASSWORD)
    page.fill("#new_password_again", NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()

    page.wait_for_url(f"{settings.issuer}/")
    assert "Your password is changed" in page.inner_text("[role=status]")
    assert page.locator(".error").count() == 0
    assert password_hash(person.id) != before
    look_at(page, "password-changed")


def test_a_person_signs_out_from_the_sign_out_page_and_is_told_so(settings, auth_context, page: Page, axe):
    person = make_user()
    page.goto(f"{settings.issuer}/login")
    page.fill("#email", person.email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto(f"{settings.issuer}/logout")
    assert page.inner_text("h1") == "Sign out of Drawbridge?"
    look_at(page, "logout")
    page.get_by_role("main").get_by_role("button", name="Sign out").click()

    page.wait_for_url(f"{settings.issuer}/login")
    assert "You are signed out" in page.inner_text("[role=status]")
    page.goto(f"{settings.issuer}/")
    assert page.url == f"{settings.issuer}/login"


def test_a_browser_gets_error_pages_not_json(settings, page: Page, axe):
    missing = page.goto(f"{settings.issuer}/no-such-page")

    assert missing is not None and missing.status == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert page.inner_text("h1") == "Page not found"
    look_at(page, "not-found")
