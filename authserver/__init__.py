"""Drawbridge authorization server: OAuth 2.0 on Authlib, issuing audience-bound JWT access tokens."""

from __future__ import annotations

from flask import Flask

from authserver import errors, keys, security, throttle
from authserver.extensions import authorization, csrf
from authserver.login_throttle import LoginThrottle
from authserver.oauth.server import config_oauth
from authserver.views import account, consent, documentation, oauth
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
