"""Drawbridge authorization server: OAuth 2.0 on Authlib, issuing audience-bound JWT access tokens."""

from __future__ import annotations

from flask import Flask

from authserver import errors, keys, security, throttle, unstorable_input
from authserver.cutoffs import CLIENT_CACHE_SECONDS
from authserver.extensions import authorization, csrf
from authserver.key_encryption import Keyring
from authserver.key_watcher import KeyWatcher
from authserver.login_throttle import LoginThrottle
from authserver.oauth.cimd_fetch import DocumentFetcher
from authserver.oauth.client_lookup import read_enabled_client
from authserver.oauth.server import config_oauth
from authserver.oauth.tokens import AccessTokenIssuer
from authserver.services import AuthServices
from authserver.views import account, admin, connected_apps, consent, dashboard, documentation, layout, oauth, portal
from serving.context import current_request
from serving.request_body import read_body
from shared import hosts
from shared import redis as drawbridge_redis
from shared.app import configure_app
from shared.cache import RefreshingCache
from shared.services import install
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
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    security.init_app(app, settings)
    app.before_request(read_page_body)  # before the CSRF check, which reads the form
    # Pages' forms are in memory by now; refused before the CSRF check, so the page says what is wrong.
    unstorable_input.init_app(app, api_blueprint=oauth.bp.name, registration_endpoint="oauth.manage_registration")
    csrf.init_app(app)
    redis_client = drawbridge_redis.connect(settings.redis_url)
    # Read the key-encryption keys now, so a missing one stops the server at start, not at /token.
    key_state = keys.KeyState(Keyring.from_settings(settings))
    install(
        app,
        AuthServices(
            redis=redis_client,
            token_issuer=AccessTokenIssuer(settings.issuer, settings.access_token_ttl_seconds),
            recent_clients=RefreshingCache(read_enabled_client, CLIENT_CACHE_SECONDS),
            keys=key_state,
            key_watcher=KeyWatcher(app, key_state, settings.signing_key_rotation_interval),
            counter=throttle.for_client(redis_client),
            login_throttle=LoginThrottle.for_client(redis_client),
            client_documents=DocumentFetcher(settings.cimd_allowed_hosts, settings.cimd_fetch_timeout_seconds),
        ),
    )
    config_oauth(app, authorization)
    app.register_blueprint(oauth.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(connected_apps.bp)
    app.register_blueprint(consent.bp)
    app.register_blueprint(documentation.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(portal.bp)
    layout.init_app(app)
    csrf.exempt(oauth.bp)  # machine endpoints: client credentials and bearer tokens, no cookies
    csrf.exempt(consent.authorize)  # it runs CSRFProtect's check itself, to keep the person's choices when it fails
    errors.init_app(app)
    return app


def read_page_body() -> None:
    """Pages parse forms through werkzeug (and Flask-WTF's CSRF check): their body is read whole
    first, so a slow, cut or malformed one is 408, 400 or 413 instead of an OSError inside the form
    parser. The OAuth endpoints read their own bodies and answer OAuth errors."""
    this_request = current_request()
    if this_request.method == "POST" and this_request.blueprint != oauth.bp.name:
        read_body()
