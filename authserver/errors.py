"""JSON errors for everything outside Authlib's own handling: no stack traces, no internal text."""

from __future__ import annotations

import logging

from flask import Flask, Response, g, jsonify
from werkzeug.exceptions import HTTPException

logger = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response, int]:
        code = (error.name or "error").lower().replace(" ", "_")
        response = jsonify(error=code, error_description=error.description)
        return response, error.code or 500

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[Response, int]:
        # Client-error text is shown; server-error text never is (the log has the traceback).
        logger.exception("unhandled_exception")
        reference = g.get("request_id", "")
        return jsonify(error="server_error", error_description=f"Internal error, reference {reference}"), 500
