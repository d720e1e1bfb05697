"""A person's browser against the in-process authorization server: signs in, reads pages as HTML,
and sends their forms with or without the CSRF token the page carries."""

from __future__ import annotations

import re
import secrets
from html import unescape

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.browser_forms import csrf_token
from tests.factories import PASSWORD

# What Chromium sends with a navigation.
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
_FIELD_ERROR = re.compile(r'<p class="field-error" id="([\w-]+)-error">([^<]*)</p>')


class Browser:
    """One browser with its cookies, at an address of its own (so no two share a login throttle).

    Each request gets an app context of its own, as it does in a server: a request reuses the app
    context the test has pushed (`auth_context`), and with it `g`, where Flask-WTF keeps the CSRF
    token it made, which would outlive the session that login clears."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.http: FlaskClient = app.test_client()
        self.http.environ_base["REMOTE_ADDR"] = f"2001:db8:{secrets.token_hex(2)}:{secrets.token_hex(2)}::9"
        self.http.environ_base["HTTP_ACCEPT"] = BROWSER_ACCEPT

    def get(self, path: str) -> TestResponse:
        with self.app.app_context():
            return self.http.get(path)

    def head(self, path: str) -> TestResponse:
        with self.app.app_context():
            return self.http.head(path)

    def post(self, path: str, data: dict[str, str | list[str]]) -> TestResponse:
        with self.app.app_context():
            return self.http.post(path, data=data)

    def log_in(self, email: str, password: str = PASSWORD) -> TestResponse:
        response = self.submit("/login", email=email, password=password)
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    def submit(self, path: str, page: str | None = None, with_token: bool = True, **fields: str | list[str]) -> TestResponse:
        """Post `fields` to `path` as the form on `page` (by default `path` itself) would, with its CSRF token."""
        token = csrf_token(self.get(page or path).get_data(as_text=True)) if with_token else None
        return self.post(path, {**fields, **({"csrf_token": token} if token else {})})


def text(response: TestResponse) -> str:
    """The page's HTML with entities decoded and each run of white space one space, as it reads."""
    return " ".join(unescape(response.get_data(as_text=True)).split())


def field_errors(response: TestResponse) -> dict[str, str]:
    """The message shown next to each field, by the field's id."""
    return {name: unescape(message) for name, message in _FIELD_ERROR.findall(response.get_data(as_text=True))}
