"""The admin console's front page and its gate (views/admin/home.py, blueprint.py): who reaches it,
and the links it offers. Who may take its actions is tests/security/test_admin_console.py."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.factories import PASSWORD
from tests.page_browser import Browser, text


def next_of(login_url: str) -> str:
    return parse_qs(urlsplit(login_url).query)["next"][0]


AREAS = ["/admin/clients", "/admin/people", "/admin/grants", "/admin/keys", "/admin/registration-tokens", "/admin/tools"]


@pytest.mark.parametrize("path", ["/admin/", *AREAS])
def test_somebody_signed_out_is_sent_to_log_in_and_back(auth_app, path):
    response = Browser(auth_app).get(path)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?")
    assert next_of(response.headers["Location"]) == path


@pytest.mark.parametrize("path", ["/admin/", *AREAS])
def test_a_person_without_the_admin_role_gets_a_403_page(browser, path):
    response = browser.get(path)

    assert response.status_code == 403
    assert "This page is for people with the admin role." in text(response)
    assert response.mimetype == "text/html"


@pytest.mark.parametrize("path", ["/admin/", *AREAS])
def test_every_admin_page_renders_for_an_admin(admin_browser, path):
    response = admin_browser.get(path)

    assert response.status_code == 200, text(response)
    assert '<a href="/admin/" aria-current="page">Admin console</a>' in text(response) or path != "/admin/"


def test_the_front_page_links_to_each_area_and_to_the_dashboard(admin_browser):
    page = text(admin_browser.get("/admin/"))

    assert all(f'href="{area}"' in page for area in AREAS)
    assert '<a href="/operations/">Operations dashboard</a>' in page


def test_the_navigation_shows_the_admin_console_to_admins_only(admin_browser, browser):
    assert '<a href="/admin/">Admin console</a>' in text(admin_browser.get("/"))
    assert "Admin console" not in text(browser.get("/"))


def test_login_returns_an_admin_to_the_admin_page_they_asked_for(auth_app, admin):
    visitor = Browser(auth_app)
    sent = visitor.get("/admin/grants?person=somebody%40example.com").headers["Location"]

    response = visitor.submit("/login", page=sent, email=admin.email, password=PASSWORD, next=next_of(sent))

    assert response.headers["Location"] == "/admin/grants?person=somebody%40example.com"
