"""Clients in the admin console (views/admin/clients.py): the list, a client's limits, disabling,
enabling and deleting it, through the service `drawbridge clients` calls."""

from __future__ import annotations

import pytest

from authserver.client_specs import ClientSpecError
from authserver.client_summaries import describe_client
from authserver.clients import find_client
from tests.factories import make_app_client, make_client
from tests.page_browser import field_errors, text


def test_the_list_shows_each_clients_name_kind_origin_state_and_last_use(admin_browser):
    made, registered = make_client(), make_app_client()

    page = text(admin_browser.get("/admin/clients"))

    assert made.client.client_name in page and registered.client.client_name in page
    row = page.split(registered.client.client_name)[1].split("</tr>")[0]
    assert "public" in row and "itself" in row and "Unverified" in row and "Enabled" in row and "never" in row


def test_an_admin_sets_a_clients_limits_and_they_are_its_own_from_then_on(admin_browser):
    client_id = make_client().client.client_id
    page = f"/admin/clients/{client_id}"

    response = admin_browser.submit(f"{page}/limits", page=page, per_minute="3", person="", tools="list_posts 2\n\nget_post 1")

    assert response.status_code == 302 and response.headers["Location"] == page
    found = describe_client(client_id)
    assert (found.rate_limit_per_minute, found.person_rate_limit_per_minute) == (3, None)
    assert found.tool_rate_limits == {"get_post": 1, "list_posts": 2}
    assert "the new limits apply from its next call" in text(admin_browser.get(page))


def test_a_tool_line_taken_out_puts_that_tool_back_to_its_default(admin_browser):
    client_id = make_client().client.client_id
    page = f"/admin/clients/{client_id}"
    admin_browser.submit(f"{page}/limits", page=page, per_minute="", tools="list_posts 2\nget_post 1")

    admin_browser.submit(f"{page}/limits", page=page, per_minute="", tools="get_post 1")

    assert describe_client(client_id).tool_rate_limits == {"get_post": 1}


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"per_minute": "0"}, "per_minute", "at least 1"),
        ({"per_minute": "many"}, "per_minute", "Not a valid integer value."),
        ({"person": "-4"}, "person", "at least 1"),
        ({"tools": "list_posts"}, "tools", "Line 1: write a tool's name and its calls per minute"),
        ({"tools": "list_posts 2\nno_such_tool 5"}, "tools", "No tool named no_such_tool."),
    ],
)
def test_a_bad_limit_is_named_next_to_its_field_and_nothing_changes(admin_browser, fields, field, message):
    client_id = make_client(rate_limit=7).client.client_id
    page = f"/admin/clients/{client_id}"

    response = admin_browser.submit(f"{page}/limits", page=page, **{"per_minute": "1", **fields})

    assert response.status_code == 400
    assert message in field_errors(response)[field]
    assert describe_client(client_id).rate_limit_per_minute == 7
    assert describe_client(client_id).tool_rate_limits == {}


def test_limits_without_the_csrf_token_are_refused_and_change_nothing(admin_browser):
    client_id = make_client(rate_limit=7).client.client_id

    response = admin_browser.submit(f"/admin/clients/{client_id}/limits", with_token=False, per_minute="1")

    assert response.status_code == 400 and "This form has expired" in text(response)
    assert describe_client(client_id).rate_limit_per_minute == 7


def test_disabling_asks_first_then_disables_and_enabling_undoes_it(admin_browser):
    client_id = make_client().client.client_id
    page = f"/admin/clients/{client_id}"

    question = text(admin_browser.get(f"{page}/disable"))
    disabled = admin_browser.submit(f"{page}/disable")
    after_disable = describe_client(client_id).disabled_at
    enabled = admin_browser.submit(f"{page}/enable", page=page)

    assert "Disable test client" in question and "every token it holds stops working" in question
    assert disabled.status_code == 302 and after_disable is not None
    assert enabled.status_code == 302 and describe_client(client_id).disabled_at is None


def test_deleting_asks_first_then_deletes_the_client(admin_browser):
    client_id = make_client().client.client_id
    path = f"/admin/clients/{client_id}/delete"

    assert "This cannot be undone" in text(admin_browser.get(path))
    response = admin_browser.submit(path)

    assert response.status_code == 302 and response.headers["Location"] == "/admin/clients"
    with pytest.raises(ClientSpecError):
        find_client(client_id)


def test_deleting_without_the_csrf_token_keeps_the_client(admin_browser):
    client_id = make_client().client.client_id

    response = admin_browser.submit(f"/admin/clients/{client_id}/delete", with_token=False)

    assert response.status_code == 400
    assert find_client(client_id).client_id == client_id


def test_a_client_that_does_not_exist_is_a_404_page(admin_browser):
    response = admin_browser.get("/admin/clients/no-such-client")

    assert response.status_code == 404 and "No such client" in text(response)
