"""Drawbridge authorization server: OAuth 2.0 on Authlib, issuing audience-bound JWT access tokens."""

from __future__ import annotations

from flask import Flask

from authserver import errors
from authserver.extensions import authorization
from authserver.oauth.server import config_oauth
from authserver.views import oauth
from shared.app import configure_app
from shared.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """Build the authorization server; tests pass Settings, production reads the environment."""
    app = Flask(__name__)
    configure_app(app, settings or Settings.from_env(), service="authserver")
    config_oauth(app, authorization)
    app.register_blueprint(oauth.bp)
    errors.init_app(app)
    return app
