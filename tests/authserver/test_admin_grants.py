"""Grants in the admin console (views/admin/grants.py): the list filtered by person and client, and
revoking one, through the service `drawbridge grants` calls."""

from __future__ import annotations

from authserver.grants import find_grant
from tests.factories import make_app_client, make_person_tokens, make_user
from tests.page_browser import field_errors, text


def test_the_list_filters_by_person_and_by_client(settings, admin_browser):
    person, app, other = make_user(), make_app_client(), make_app_client()
    mine = make_person_tokens(settings, app.client.client_id, person)
    theirs = make_person_tokens(settings, other.client.client_id)
    by_person = text(admin_browser.get(f"/admin/grants?person={person.email}"))
    by_client = text(admin_browser.get(f"/admin/grants?client={other.client.client_id}"))

    assert f"/admin/grants/{mine['grant_id']}/revoke" in by_person and theirs["grant_id"] not in by_person
    assert f"/admin/grants/{theirs['grant_id']}/revoke" in by_client and mine["grant_id"] not in by_client


def test_an_unknown_person_or_client_is_named_next_to_its_filter(admin_browser):
    by_person = admin_browser.get("/admin/grants?person=nobody@example.com")
    by_client = admin_browser.get("/admin/grants?client=no-such-client")

    assert by_person.status_code == 400 and "No user with the email nobody@example.com." in field_errors(by_person)["person"]
    assert by_client.status_code == 400 and "Not a valid choice" in field_errors(by_client)["client"]


def test_revoking_asks_first_then_revokes_the_grant(settings, admin_browser):
    person, app = make_user(), make_app_client()
    grant_id = make_person_tokens(settings, app.client.client_id, person)["grant_id"]
    path = f"/admin/grants/{grant_id}/revoke"

    question = text(admin_browser.get(path))
    response = admin_browser.submit(path)

    assert f"Revoke {person.email}'s grant to {app.client.client_name}?" in question
    assert response.status_code == 302
    assert find_grant(grant_id).revoked_at is not None
    assert "no longer acts for" in text(admin_browser.get(response.headers["Location"]))
    assert admin_browser.get(path).status_code == 404  # revoked: nothing left to revoke


def test_revoking_without_the_csrf_token_keeps_the_grant(settings, admin_browser):
    grant_id = make_person_tokens(settings, make_app_client().client.client_id)["grant_id"]

    response = admin_browser.submit(f"/admin/grants/{grant_id}/revoke", with_token=False)

    assert response.status_code == 400 and find_grant(grant_id).revoked_at is None
