"""An error's `detail` (what went wrong, in words for an operator) goes to the request's log line
and never to the client: not its body, not one of its headers, in either service, whatever the
error. node-oidc-provider keeps its `error_detail` so (lib/helpers/errors.js, written by
lib/shared/error_handler.js and left out by lib/helpers/err_out.js); DESIGN.md: "unexpected
exceptions never leak their text (the client sees a reference id, the log has the traceback)"."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator

import psycopg
import pytest
import redis
from authlib.oauth2.rfc6749 import InvalidClientError, InvalidGrantError
from authlib.oauth2.rfc6750 import InvalidTokenError
from flask import Flask, Response

import authserver
from authserver.errors import TemporarilyUnavailableError
from authserver.extensions import authorization
from authserver.oauth.errors import detailed
from authserver.views.pages import error_page
from mcp_resource import errors, http_errors
from mcp_resource.guardrails.audit import AuditUnavailable
from mcp_resource.guardrails.ratelimit import LimiterUnavailable
from shared import logging as shared_logging
from shared.settings import Settings

DETAIL = "detail-5e1f: kid 'k-2' unknown, secret hunter2"
REQUEST_ID = "req-detail-1"


def _json_rpc_errors() -> list[type[errors.JsonRpcError]]:
    found, todo = [], [errors.JsonRpcError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


MCP_FAILURES: dict[str, Callable[[], Exception]] = {
    **{cls.__name__: (lambda cls=cls: cls("What the client may read.", detail=DETAIL)) for cls in _json_rpc_errors()},
    "MissingToken": lambda: errors.MissingToken("Authentication required.", detail=DETAIL),
    "InvalidToken": lambda: errors.InvalidToken("The access token has expired.", detail=DETAIL),
    "InsufficientScope": lambda: errors.InsufficientScope("Needs posts:write.", scope="posts:write", detail=DETAIL),
    "LimiterUnavailable": lambda: LimiterUnavailable(DETAIL),
    "KeysUnavailable": lambda: errors.KeysUnavailable(DETAIL),
    "AuditUnavailable": lambda: AuditUnavailable(DETAIL),
    "RedisError": lambda: redis.ConnectionError(DETAIL),
    "DatabaseDown": lambda: psycopg.OperationalError(DETAIL),
    "DatabaseRefused": lambda: psycopg.errors.UniqueViolation(DETAIL),
    "Unexpected": lambda: RuntimeError(DETAIL),
}

AUTH_REFUSALS: dict[str, Callable[[], Exception]] = {
    "invalid_client": lambda: detailed(InvalidClientError(status_code=401, description="Client authentication failed."), DETAIL),
    "invalid_grant": lambda: detailed(InvalidGrantError("The refresh token is invalid."), DETAIL),
    "invalid_token": lambda: detailed(InvalidTokenError("The registration access token is not valid."), DETAIL),
    "temporarily_unavailable": lambda: TemporarilyUnavailableError("Retry shortly.", 5, DETAIL),
}
AUTH_FAILURES: dict[str, Callable[[], Exception]] = {
    "RedisError": lambda: redis.ConnectionError(DETAIL),
    "DatabaseDown": lambda: psycopg.OperationalError(DETAIL),
    "Unexpected": lambda: RuntimeError(DETAIL),
}


@pytest.fixture(scope="module")
def mcp_app(settings: Settings) -> Flask:
    """The resource server's error handlers and request ids on an app of their own: the MCP app
    itself reads its database as it starts, which a unit test has none of."""
    app = Flask(__name__)
    app.config["SETTINGS"] = settings
    shared_logging.init_app(app)
    http_errors.init_app(app)

    @app.get("/fail/<name>")
    def fail(name: str) -> Response:
        raise MCP_FAILURES[name]()

    return app


@pytest.fixture(scope="module")
def auth_app(settings: Settings) -> Flask:
    app = authserver.create_app(settings)

    @app.get("/refuse/<name>")
    def refuse(name: str) -> Response:
        return authorization.handle_error_response(None, AUTH_REFUSALS[name]())

    @app.get("/fail/<name>")
    def fail(name: str) -> Response:
        raise AUTH_FAILURES[name]()

    @app.get("/page")
    def page() -> tuple[str, int]:
        return error_page("This sign-in request is not valid", "Start again from the application.", detail=DETAIL)

    return app


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the services' JSON handler writes (shared/logging.configure), as a deployment has it.
    Asked for after the apps: making one configures the root logger afresh."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(shared_logging.JsonFormatter())
    handler.addFilter(shared_logging.ContextFilter("test"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def answer_of(app: Flask, path: str, accept: str = "application/json") -> str:
    response = app.test_client().get(path, headers={"X-Request-Id": REQUEST_ID, "Accept": accept}, base_url="http://127.0.0.1:8000")
    return response.get_data(as_text=True) + "\n" + "\n".join(f"{k}: {v}" for k, v in response.headers.items())


def assert_kept_from_the_client(answer: str) -> None:
    assert "detail-5e1f" not in answer
    assert "hunter2" not in answer


@pytest.mark.parametrize("name", sorted(MCP_FAILURES))
def test_the_resource_server_never_sends_a_detail(mcp_app: Flask, name: str) -> None:
    assert_kept_from_the_client(answer_of(mcp_app, f"/fail/{name}"))


@pytest.mark.parametrize("name", sorted(AUTH_REFUSALS))
def test_the_authorization_server_never_sends_a_refusals_detail(auth_app: Flask, name: str) -> None:
    assert_kept_from_the_client(answer_of(auth_app, f"/refuse/{name}"))


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
@pytest.mark.parametrize("name", sorted(AUTH_FAILURES))
def test_the_authorization_server_never_sends_a_failures_text(auth_app: Flask, name: str, accept: str) -> None:
    assert_kept_from_the_client(answer_of(auth_app, f"/fail/{name}", accept))


def test_an_error_pages_detail_is_not_on_the_page(auth_app: Flask) -> None:
    assert_kept_from_the_client(answer_of(auth_app, "/page", "text/html"))


@pytest.mark.parametrize(
    ("app_name", "path"),
    [("mcp_app", "/fail/InvalidToken"), ("mcp_app", "/fail/InvalidParams"), ("mcp_app", "/fail/RedisError"), ("auth_app", "/refuse/invalid_client"), ("auth_app", "/fail/DatabaseDown")],
)
def test_the_detail_is_on_the_requests_log_line(mcp_app: Flask, auth_app: Flask, log_lines: io.StringIO, app_name: str, path: str) -> None:
    answer_of({"mcp_app": mcp_app, "auth_app": auth_app}[app_name], path)

    lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    answered = [line for line in lines if line["event"] == "error_answered"]
    assert len(answered) == 1
    assert DETAIL in answered[0]["detail"]
    assert answered[0]["request_id"] == REQUEST_ID
    assert answered[0]["path"] == path
