"""The developer portal: a developer sees and acts on their own clients only (views/portal.py,
developer_clients.owned_client), and the apps they register hold no scope of their own (issue #18)."""

from __future__ import annotations

import base64
import re

import pytest
from sqlalchemy import select

from authserver.client_specs import WEB_APP
from authserver.models import Client, User
from authserver.users import assign_role, remove_role
from shared.db import db
from tests.factories import make_client, make_user
from tests.page_browser import Browser, text


def developer_browser(app) -> tuple[User, Browser]:
    person = make_user()
    assign_role(person.email, "developer")
    browser = Browser(app)
    browser.log_in(person.email)
    return person, browser


def state(client_id: str) -> tuple | None:
    """What acting on a client could change: whether it exists, its secrets, its being disabled."""
    db.session.expire_all()
    client = db.session.scalar(select(Client).where(Client.client_id == client_id))
    return None if client is None else (sorted(s.secret_hash for s in client.secrets), client.disabled_at, client.client_name)


# What a developer can do to a client in the portal: (method, path under the client's page).
ACTIONS = [("get", ""), ("post", "/secret"), ("post", "/disable"), ("post", "/enable"), ("get", "/delete"), ("post", "/delete")]


@pytest.mark.parametrize("whose", ["another developer's", "an operator's"])
@pytest.mark.parametrize(("method", "action"), ACTIONS, ids=[f"{m} {a or '/'}" for m, a in ACTIONS])
def test_a_developer_cannot_see_or_touch_a_client_that_is_not_theirs(auth_app, auth_context, whose, method, action):
    """OWASP ASVS 4.0.3, V4.2.1: "Verify that sensitive data and APIs are protected against Insecure
    Direct Object Reference (IDOR) attacks targeting creation, reading, updating and deletion of
    records, such as creating or updating someone else's record, viewing everyone's records, or
    deleting all records." Issue #22: in the developer portal "a client registered in the portal
    belongs to the developer who registered it"; another developer cannot see or touch it. Such a
    client is "not found" to them (404), exactly as a client id that does not exist: the answer
    does not even confirm that the id is taken."""
    owner, owners_browser = developer_browser(auth_app)
    if whose == "an operator's":
        client_id = make_client(kind=WEB_APP, redirect_uris=("https://app.example.com/cb",)).client.client_id
    else:
        owners_browser.submit("/portal/clients/new", name="Owned", kind="machine", scopes=["posts:read"], redirect_uris="")
        client_id = db.session.scalar(select(Client.client_id).where(Client.owner_id == owner.id))
    _, intruder = developer_browser(auth_app)
    before = state(client_id)
    page = f"/portal/clients/{client_id}"

    answer = intruder.get(page + action) if method == "get" else intruder.submit(page + action, page="/portal", grace_seconds="0")
    unknown = intruder.get("/portal/clients/cdoesnotexist")

    assert answer.status_code == unknown.status_code == 404
    assert "No such client" in text(answer)
    assert text(answer).replace(client_id, "ID") == text(unknown).replace("cdoesnotexist", "ID")
    assert state(client_id) == before
    assert client_id not in text(intruder.get("/portal"))


def test_a_developer_whose_role_is_taken_away_reaches_not_even_their_own_clients(auth_app, auth_context):
    """The role is read on every request (users.remove_role): the portal's pages and its actions
    are for people holding it now, not for whoever held it when they signed in."""
    owner, browser = developer_browser(auth_app)
    browser.submit("/portal/clients/new", name="Owned", kind="machine", scopes=["posts:read"], redirect_uris="")
    client_id = db.session.scalar(select(Client.client_id).where(Client.owner_id == owner.id))
    page = f"/portal/clients/{client_id}"
    shown_before = browser.get(page)
    before = state(client_id)

    remove_role(owner.email, "developer")
    shown = browser.get(page)
    disabled = browser.submit(f"{page}/disable", page="/")

    assert shown_before.status_code == 200
    assert shown.status_code == disabled.status_code == 403
    assert state(client_id) == before


def test_an_app_a_developer_registers_gets_no_token_without_a_person(auth_app, auth_context, settings):
    """Issue #18's policy, as for open registration (tests/security/test_registration_policy.py): a
    client that acts for a person holds no standing scopes; its tokens carry only what a person
    consented to. RFC 6749 section 5.2: a client "not authorized to use this authorization grant
    type" gets "unauthorized_client". So a web app from the portal, secret and all, gets no token
    by client_credentials, whatever scopes it may ask people for."""
    _, browser = developer_browser(auth_app)
    sent = browser.submit(
        "/portal/clients/new", name="Web app", kind="web", scopes=["posts:read", "posts:write"], redirect_uris="https://app.example.com/cb"
    )
    page = browser.get(sent.headers["Location"]).get_data(as_text=True)
    secret = re.search(r'id="client-secret">([^<]+)<', page)
    assert secret is not None
    client_id = sent.headers["Location"].rsplit("/", 1)[1]
    credentials = base64.b64encode(f"{client_id}:{secret.group(1)}".encode()).decode()

    response = auth_app.test_client().post(
        "/token",
        data={"grant_type": "client_credentials", "resource": settings.resource_url},
        headers={"Authorization": f"Basic {credentials}"},
    )

    assert response.status_code == 400
    assert response.json["error"] == "unauthorized_client"
