"""Drawbridge authorization server: OAuth 2.0 on Authlib, issuing audience-bound JWT access tokens."""

from __future__ import annotations

from flask import Flask

from authserver import errors, keys, security, throttle
from authserver.extensions import authorization, csrf
from authserver.oauth.server import config_oauth
from authserver.passwords import LoginThrottle
from authserver.views import account, consent, oauth
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
    keys.init_app(app)
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    security.init_app(app, settings)
    csrf.init_app(app)
    counter = throttle.for_client(app.extensions["drawbridge.redis"])
    app.extensions["drawbridge.counter"] = counter
    app.extensions["drawbridge.login_throttle"] = LoginThrottle(counter)
    config_oauth(app, authorization)
    app.register_blueprint(oauth.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(consent.bp)
    csrf.exempt(oauth.bp)  # machine endpoints: client credentials and bearer tokens, no cookies
    errors.init_app(app)
    return app
