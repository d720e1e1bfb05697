"""JSON errors for everything outside Authlib's own handling: no stack traces, no internal text
(what a backing service said goes to the request's log line as the refusal's detail)."""

from __future__ import annotations

import logging

import psycopg
import redis
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError
from flask import Flask, Response, g, jsonify, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

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
    def backend_error(error: Exception) -> Response | tuple[str, int, dict[str, str]] | tuple[Response, int]:
        # The database unreachable or silent past DRAWBRIDGE_DATABASE_TIMEOUT_SECONDS, or Redis
        # (login throttle, registration counter, revocations) unreachable: RFC 6749 4.1.2.1's
        # temporarily_unavailable, or the error page for a person. Anything else is our fault.
        if isinstance(error, DATABASE_ERRORS) and not database_unavailable(error):
            return unexpected_error(error)
        detail = failure_detail(error)
        if wants_html():
            return *error_page("Temporarily unavailable", UNAVAILABLE, 503, detail), {"Retry-After": str(UNAVAILABLE_RETRY_AFTER_SECONDS)}
        return authorization.handle_error_response(None, TemporarilyUnavailableError(UNAVAILABLE, UNAVAILABLE_RETRY_AFTER_SECONDS, detail))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response, int] | tuple[str, int]:
        status = error.code or 500
        if wants_html():
            return error_page(error.name, error.description or "", status)
        code = (error.name or "error").lower().replace(" ", "_")
        return jsonify(error=code, error_description=error.description), status

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[Response, int]:
        # Client-error text is shown; server-error text never is (the log has the traceback).
        logger.exception("unhandled_exception")
        reference = g.get("request_id", "")
        return jsonify(error="server_error", error_description=f"Internal error, reference {reference}"), 500


def wants_html() -> bool:
    """A person's browser, which gets our error page rather than JSON."""
    return request.accept_mimetypes.best_match(("application/json", "text/html")) == "text/html"
