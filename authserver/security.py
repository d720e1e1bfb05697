"""Browser hardening on every response: CSP with frame-ancestors 'none', no sniffing, no caching."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response

from shared.settings import Settings

# Scripts only from our own static files (the developer portal's copy button), never inline.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HARDENING_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    # The full URL to this server's own pages, nothing to any other site. Not no-referrer: over https
    # the login and consent forms' CSRF check (Flask-WTF's WTF_CSRF_SSL_STRICT) requires a Referer of
    # this origin, and a browser told no-referrer sends none, so no one could log in.
    ("Referrer-Policy", "same-origin"),
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
        present = {name.lower() for name, _ in response.headers}
        # add(), not setdefault(): one pass over the headers instead of one per header.
        for name, value in HARDENING_HEADERS:
            if name.lower() not in present:
                response.headers.add(name, value)
        if (response.content_type or "").startswith("text/html"):
            response.headers["Cache-Control"] = "no-store"
        return response
