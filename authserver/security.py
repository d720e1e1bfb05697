"""Browser hardening on every response: CSP with frame-ancestors 'none', no sniffing, no caching."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response

from shared.settings import Settings

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SESSION_LIFETIME_SECONDS = 12 * 3600


def init_app(app: Flask, settings: Settings) -> None:
    """Session cookie flags (Secure outside plain-http localhost) and the response headers."""
    app.config.update(
        SESSION_COOKIE_NAME="drawbridge_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=urlsplit(settings.issuer).scheme == "https",
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME_SECONDS,
    )

    @app.after_request
    def harden(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if response.mimetype == "text/html":
            response.headers["Cache-Control"] = "no-store"
        return response
