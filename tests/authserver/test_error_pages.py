"""What the authorization server answers a person's browser and an API client when something is
wrong (errors.py), and HEAD wherever GET is answered."""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask import Flask

import authserver
from tests.page_browser import BROWSER_ACCEPT, Browser, text


def html(accept: str = BROWSER_ACCEPT) -> dict[str, str]:
    return {"Accept": accept}


def test_every_page_answers_head_as_it_answers_get(auth_app: Flask):
    """RFC 9110 section 9.3.2: "The server SHOULD send the same header fields in response to a HEAD
    request as it would have sent if the request method had been GET" (HEAD /login was a 400)."""
    rules = [r for r in auth_app.url_map.iter_rules() if "GET" in (r.methods or ()) and not r.arguments]
    http = auth_app.test_client()

    answers = {rule.rule: (http.get(rule.rule).status_code, http.head(rule.rule)) for rule in rules}

    assert "/login" in answers and "/logout" in answers and "/authorize" in answers
    for path, (get_status, head) in answers.items():
        assert head.status_code == get_status, path
        assert head.get_data() == b"", path


@pytest.mark.parametrize(
    ("method", "path", "status", "title"),
    [("GET", "/no-such-page", 404, "Page not found"), ("DELETE", "/login", 405, "This page cannot be used that way")],
)
def test_a_browser_gets_an_error_page_and_an_api_client_json(auth_app: Flask, method, path, status, title):
    http = auth_app.test_client()

    page = http.open(path, method=method, headers=html())
    api = http.open(path, method=method, headers={"Accept": "application/json"})
    unspecified = http.open(path, method=method)

    assert page.status_code == api.status_code == unspecified.status_code == status
    assert page.headers["Content-Type"].startswith("text/html")
    assert f"<h1>{title}</h1>" in text(page)
    assert api.is_json and unspecified.is_json
    if status == 405:  # RFC 9110 section 15.5.6: "The origin server MUST generate an Allow header field"
        assert set(page.headers["Allow"].split(", ")) == set(api.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_a_login_form_without_its_csrf_token_is_a_page_saying_what_to_do(auth_app: Flask):
    browser = Browser(auth_app)

    response = browser.submit("/login", with_token=False, email="a@example.com", password="x")

    assert response.status_code == 400
    assert "This form has expired" in text(response)
    assert 'href="/login"' in text(response)


def test_an_unexpected_error_is_a_page_for_a_browser_and_json_for_an_api_client_and_neither_tells_it(settings):
    """STYLE.md: server-error text is never shown; the reference finds the traceback in the log."""
    app = authserver.create_app(replace(settings))

    @app.get("/broken")
    def broken() -> str:
        raise RuntimeError("the secret internals")

    http = app.test_client()
    page = http.get("/broken", headers={**html(), "X-Request-Id": "req-123"})
    api = http.get("/broken", headers={"X-Request-Id": "req-123"})

    assert page.status_code == api.status_code == 500
    assert page.headers["Content-Type"].startswith("text/html")
    assert "Something went wrong" in text(page) and "req-123" in text(page)
    assert api.json == {"error": "server_error", "error_description": "Internal error, reference req-123"}
    assert "secret internals" not in text(page) + api.get_data(as_text=True)
