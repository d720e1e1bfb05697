"""Errors outside Authlib's own handling: an HTML page for a person's browser, JSON for API
clients; no stack traces, no internal text (what a backing service said goes to the request's log
line as the refusal's detail)."""

from __future__ import annotations

import logging

import psycopg
import redis
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError
from flask import Flask, Response, current_app, g, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from authserver.extensions import authorization
from authserver.keys import KEY_CACHE_SECONDS, NoSigningKeyError
from authserver.views.pages import error_page
from shared.db import DATABASE_ERRORS, UNAVAILABLE_RETRY_AFTER_SECONDS
from shared.db import unavailable as database_unavailable
from shared.hosts import UnknownHost
from shared.logging import failure_detail

logger = logging.getLogger(__name__)

UNKNOWN_HOST = "This server does not answer for that host."
UNAVAILABLE = "The service is unavailable for a moment; retry in a few seconds."
# What a person reads instead of werkzeug's words, which are written for developers.
PAGE_WORDS: dict[int, tuple[str, str]] = {
    NotFound.code: ("Page not found", "There is no page at this address. Check the address, or start again from your account."),
    MethodNotAllowed.code: ("This page cannot be used that way", "Open the page from a link or its form instead."),
}
SERVER_ERROR = "Something went wrong on our side; retry in a moment. If it happens again, give this reference: {reference}."
FORM_EXPIRED = (
    "Nothing was changed: the page was open too long, or your browser did not send its cookie with the form. "
    "Open the page again and send the form once more."
)


class TemporarilyUnavailableError(OAuth2Error):
    """RFC 6749 section 4.1.2.1: the server cannot handle the request now, but can later; its
    Retry-After (RFC 9110 section 10.2.3) says when."""

    error = "temporarily_unavailable"
    status_code = 503

    def __init__(self, description: str, retry_after_seconds: int, detail: str | None = None) -> None:
        super().__init__(description)
        self.retry_after_seconds = retry_after_seconds
        self.detail = detail

    def get_headers(self) -> list[tuple[str, str]]:
        return [*super().get_headers(), ("Retry-After", str(self.retry_after_seconds))]


def init_app(app: Flask) -> None:
    @app.errorhandler(UnknownHost)
    def unknown_host(error: UnknownHost) -> Response | tuple[str, int]:
        # RFC 9112 section 3.2 answers a bad Host with 400: a person's browser gets the error page.
        if wants_html():
            return error_page("Unknown address", UNKNOWN_HOST)
        return authorization.handle_error_response(None, InvalidRequestError(UNKNOWN_HOST))

    @app.errorhandler(NoSigningKeyError)
    def no_signing_key(error: NoSigningKeyError) -> Response:
        # An operator's fault, not the client's: RFC 6749 4.1.2.1's temporarily_unavailable, and a
        # loud log line saying what to run. Keys are read again within KEY_CACHE_SECONDS.
        logger.error("no_signing_key", extra={"reason": str(error)})
        refusal = TemporarilyUnavailableError("The server cannot sign tokens right now; retry later.", KEY_CACHE_SECONDS)
        return authorization.handle_error_response(None, refusal)

    @app.errorhandler(SQLAlchemyError)
    @app.errorhandler(psycopg.Error)
    @app.errorhandler(redis.RedisError)
    def backend_error(error: Exception) -> ResponseReturnValue:
        # The database unreachable or silent past DRAWBRIDGE_DATABASE_TIMEOUT_SECONDS, or Redis
        # (login throttle, registration counter, revocations) unreachable: RFC 6749 4.1.2.1's
        # temporarily_unavailable, or the error page for a person. Anything else is our fault.
        if isinstance(error, DATABASE_ERRORS) and not database_unavailable(error):
            return unexpected_error(error)
        detail = failure_detail(error)
        if wants_html():
            return *error_page("Temporarily unavailable", UNAVAILABLE, 503, detail), {"Retry-After": str(UNAVAILABLE_RETRY_AFTER_SECONDS)}
        return authorization.handle_error_response(None, TemporarilyUnavailableError(UNAVAILABLE, UNAVAILABLE_RETRY_AFTER_SECONDS, detail))

    @app.errorhandler(CSRFError)
    def form_expired(error: CSRFError) -> ResponseReturnValue:
        # Flask-WTF checks every page's form before its view (a missing, expired or foreign token).
        # The consent view runs the check itself, so an expired consent form keeps the person's choices.
        if wants_html():
            return error_page("This form has expired", FORM_EXPIRED, 400, error.description, next_step=_reopen())
        return http_error(error)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        status = error.code or 500
        # RFC 9110 section 15.5.6: a 405 carries Allow, in either form of the answer.
        headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
        if wants_html():
            title, description = PAGE_WORDS.get(status, (error.name, error.description or ""))
            return *error_page(title, description, status, next_step=_account()), headers
        code = (error.name or "error").lower().replace(" ", "_")
        return jsonify(error=code, error_description=error.description), status, headers

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> ResponseReturnValue:
        # Client-error text is shown; server-error text never is (the log has the traceback).
        logger.exception("unhandled_exception")
        reference = g.get("request_id", "")
        if wants_html():
            description = SERVER_ERROR.format(reference=reference)
            return error_page("Something went wrong", description, 500, next_step=_account())
        return jsonify(error="server_error", error_description=f"Internal error, reference {reference}"), 500


def _reopen() -> tuple[str, str]:
    """A link to the page the expired form was on: its own address when that answers GET (the
    login, password and sign-out pages post to themselves), the account home otherwise."""
    try:
        current_app.url_map.bind("").match(request.path, method="GET")
    except HTTPException:
        return _account()
    return ("Open the page again", request.full_path.rstrip("?"))


def _account() -> tuple[str, str]:
    return ("Go to your account", url_for("account.home"))


def wants_html() -> bool:
    """A person's browser, which gets our error page rather than JSON."""
    return request.accept_mimetypes.best_match(("application/json", "text/html")) == "text/html"
