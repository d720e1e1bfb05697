"""Connected apps (views/connected_apps.py, grants.connected_apps and grants.disconnect): what a
person sees of the apps they let act for them, and disconnecting one of their own only.

That a disconnected app's next tool call is refused at the live MCP server is walked in Chromium,
in tests/browser/test_connected_apps_in_chromium.py."""

from __future__ import annotations

from authserver.client_specs import WEB_APP
from authserver.grants import connected_apps, list_grants
from tests.factories import make_app_client, make_client, make_person_tokens
from tests.page_browser import text


def test_the_page_lists_each_app_once_with_its_scopes_in_plain_words(settings, browser, person):
    app = make_app_client()
    make_person_tokens(settings, app.client.client_id, person, scope="posts:read")
    make_person_tokens(settings, app.client.client_id, person, scope="posts:write")
    make_person_tokens(settings, make_app_client().client.client_id)  # somebody else's

    page = text(browser.get("/account/apps"))

    assert page.count("<h2>") == 1
    assert app.client.client_name in page
    assert "Read the blog's posts, drafts included." in page
    assert "Write, edit and publish blog posts." in page
    assert "Unverified" in page  # it registered itself
    assert f'action="/account/apps/{app.client.client_id}/disconnect"' in page


def test_an_app_an_operator_made_is_not_marked_unverified(settings, browser, person):
    operators = make_client(kind=WEB_APP, redirect_uris=("https://app.example.com/cb",))
    make_person_tokens(settings, operators.client.client_id, person)

    [app] = connected_apps(person.email)

    assert app.unverified is False
    assert "Unverified" not in text(browser.get("/account/apps"))


def test_disconnecting_revokes_every_grant_the_person_gave_the_app_and_no_other(settings, browser, person):
    app, other = make_app_client(), make_app_client()
    for _ in range(2):
        make_person_tokens(settings, app.client.client_id, person)
    kept = make_person_tokens(settings, other.client.client_id, person)

    response = browser.submit(f"/account/apps/{app.client.client_id}/disconnect", page="/account/apps")

    assert response.status_code == 302 and response.headers["Location"] == "/account/apps"
    assert [g.grant_id for g in list_grants(user_email=person.email)] == [kept["grant_id"]]
    assert f"{app.client.client_name} is disconnected" in text(browser.get("/account/apps"))


def test_a_person_cannot_disconnect_an_app_from_somebody_else(settings, browser, person):
    app = make_app_client()
    theirs = make_person_tokens(settings, app.client.client_id)  # another person's grant

    response = browser.submit(f"/account/apps/{app.client.client_id}/disconnect", page="/account/apps")

    assert response.status_code == 404
    assert "No such connected app" in text(response)
    assert [g.grant_id for g in list_grants(client_id=app.client.client_id)] == [theirs["grant_id"]]


def test_disconnecting_without_the_csrf_token_changes_nothing(settings, browser, person):
    app = make_app_client()
    grant = make_person_tokens(settings, app.client.client_id, person)

    response = browser.submit(f"/account/apps/{app.client.client_id}/disconnect", with_token=False)

    assert response.status_code == 400
    assert "This form has expired" in text(response)
    assert [g.grant_id for g in list_grants(user_email=person.email)] == [grant["grant_id"]]
