"""People in the admin console (views/admin/people.py): roles given and taken, disabling and
enabling a person, through the service `drawbridge users` calls."""

from __future__ import annotations

from authserver.users import find_user
from shared.db import db
from tests.factories import PASSWORD, make_user
from tests.page_browser import Browser, text


def test_the_list_shows_each_person_their_state_and_roles(admin_browser, admin):
    somebody = make_user()

    page = text(admin_browser.get("/admin/people"))

    assert somebody.email in page
    assert "admin" in page.split(admin.email)[2].split("</tr>")[0]  # the link's text, then the row


def test_an_admin_gives_a_role_and_takes_it_away(admin_browser):
    somebody = make_user()
    page = f"/admin/people/{somebody.email}"

    given = admin_browser.submit(f"{page}/roles/developer/give", page=page)
    held_after_giving = find_user(somebody.email).has_role("developer")
    taken = admin_browser.submit(f"{page}/roles/developer/take", page=page)
    db.session.expire_all()  # the test's session read the person before the page changed them

    assert given.status_code == 302 and held_after_giving
    assert taken.status_code == 302 and not find_user(somebody.email).has_role("developer")
    assert "no longer holds the developer role" in text(admin_browser.get(page))


def test_a_role_that_does_not_exist_is_refused_and_changes_nothing(admin_browser):
    somebody = make_user()

    response = admin_browser.submit(f"/admin/people/{somebody.email}/roles/owner/give", page=f"/admin/people/{somebody.email}")

    assert response.status_code == 404 and "is not a role" in text(response)
    assert [r.role for r in find_user(somebody.email).roles] == []


def test_an_admin_cannot_take_their_own_admin_role_nor_disable_themselves_here(admin_browser, admin):
    page = f"/admin/people/{admin.email}"

    took = admin_browser.submit(f"{page}/roles/admin/take", page=page)
    disabled = admin_browser.submit(f"{page}/disable", page=page)

    assert took.status_code == 400 and disabled.status_code == 400
    assert "You cannot do this to yourself here" in text(took)
    assert find_user(admin.email).has_role("admin") and find_user(admin.email).disabled_at is None


def test_disabling_asks_first_and_then_the_person_cannot_log_in_until_enabled(auth_app, admin_browser):
    somebody = make_user()
    page = f"/admin/people/{somebody.email}"

    question = text(admin_browser.get(f"{page}/disable"))
    response = admin_browser.submit(f"{page}/disable")
    refused = Browser(auth_app).submit("/login", email=somebody.email, password=PASSWORD)
    admin_browser.submit(f"{page}/enable", page=page)

    assert f"Disable {somebody.email}?" in question and "every token issued for them stops working" in question
    assert response.status_code == 302
    assert refused.status_code == 401
    assert find_user(somebody.email).disabled_at is None
    Browser(auth_app).log_in(somebody.email)


def test_disabling_without_the_csrf_token_is_refused_and_changes_nothing(admin_browser):
    somebody = make_user()

    response = admin_browser.submit(f"/admin/people/{somebody.email}/disable", with_token=False)

    assert response.status_code == 400 and "This form has expired" in text(response)
    assert find_user(somebody.email).disabled_at is None


def test_a_person_who_does_not_exist_is_a_404_page(admin_browser):
    response = admin_browser.get("/admin/people/nobody@example.com")

    assert response.status_code == 404 and "No such person" in text(response)
