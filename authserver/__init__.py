"""Drawbridge authorization server: OAuth 2.0 on Authlib, issuing audience-bound JWT access tokens."""

from __future__ import annotations

from flask import Flask, request

from authserver import errors, keys, security, throttle, unstorable_input
from authserver.extensions import authorization, csrf
from authserver.login_throttle import LoginThrottle
from authserver.oauth.server import config_oauth
from authserver.views import account, consent, documentation, oauth
from serving.request_body import read_body
from shared import hosts
from shared.app import configure_app
from shared.settings import Settings

# The largest body a client sends here is a registration document of a few KiB. The limit also
# bounds chunked bodies, and makes werkzeug answer 400 when a body cannot be read.
MAX_REQUEST_BYTES = 64 * 1024


def create_app(settings: Settings | None = None) -> Flask:
    """Build the authorization server; tests pass Settings, production reads the environment."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    configure_app(app, settings, service="authserver")
    # The resource server fetches the keys at DRAWBRIDGE_JWKS_URL, inside the network in deploy/.
    hosts.init_app(app, [settings.issuer, settings.jwks_url])
    keys.init_app(app)
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    security.init_app(app, settings)
    app.before_request(read_page_body)  # before the CSRF check, which reads the form
    # Pages' forms are in memory by now; refused before the CSRF check, so the page says what is wrong.
    unstorable_input.init_app(app, api_blueprint=oauth.bp.name, registration_endpoint="oauth.manage_registration")
    csrf.init_app(app)
    app.extensions["drawbridge.counter"] = throttle.for_client(app.extensions["drawbridge.redis"])
    app.extensions["drawbridge.login_throttle"] = LoginThrottle.for_client(app.extensions["drawbridge.redis"])
    config_oauth(app, authorization)
    app.register_blueprint(oauth.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(consent.bp)
    app.register_blueprint(documentation.bp)
    csrf.exempt(oauth.bp)  # machine endpoints: client credentials and bearer tokens, no cookies
    errors.init_app(app)
    return app


def read_page_body() -> None:
    """Pages parse forms through werkzeug (and Flask-WTF's CSRF check): their body is read whole
    first, so a slow, cut or malformed one is 408, 400 or 413 instead of an OSError inside the form
    parser. The OAuth endpoints read their own bodies and answer OAuth errors."""
    if request.method == "POST" and request.blueprint != oauth.bp.name:
        read_body()
