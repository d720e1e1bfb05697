"""Wires Authlib's authorization server to our clients, grants and token issuer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from authlib.common.urls import add_params_to_uri
from authlib.integrations.flask_oauth2 import AuthorizationServer as FlaskAuthorizationServer
from flask import Flask, Response, current_app
from sqlalchemy import select

from authserver.cutoffs import CLIENT_CACHE_SECONDS
from authserver.models import Client
from authserver.oauth.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authserver.oauth.pkce import S256CodeChallenge
from authserver.oauth.tokens import AccessTokenIssuer, token_issuer
from shared import metrics, scopes
from shared.cache import RefreshingCache
from shared.db import db
from shared.unstorable import storable


class AuthorizationServer(FlaskAuthorizationServer):
    """Authlib's Flask server, naming its issuer in every authorization response."""

    if TYPE_CHECKING:
        # types-authlib types the generic server's answers (`object`; a status, body and headers
        # tuple); the Flask server's are what its handle_response makes of those: Flask Responses.
        def create_authorization_response(self, request=None, grant_user=None, grant=None) -> Response: ...
        def create_token_response(self, request=None) -> Response: ...  # type: ignore[override]

    def handle_response(self, status_code: int, payload, headers) -> Response:
        # RFC 9207: every authorization response, errors included, names its issuer, so a client
        # talking to several servers cannot be sent another server's code (mix-up attacks).
        if status_code == 302:
            headers = [
                (name, add_params_to_uri(value, [("iss", token_issuer().issuer)]) if name == "Location" else value)
                for name, value in headers
            ]
        return super().handle_response(status_code, payload, headers)


    def handle_error_response(self, request, error) -> Response:
        metrics.ERRORS.labels("authserver", error.error or "error").inc()
        return super().handle_error_response(request, error)  # type: ignore[return-value]  # see above


def query_client(client_id: str) -> Client | None:
    """An enabled client by id, as Authlib asks for it (/authorize, the code and refresh grants):
    read each time, so a client disabled or deleted is refused at once."""
    return read_enabled_client(client_id)


def recent_client(client_id: str) -> Client | None:
    """An enabled client by id, as the client_credentials grant asks for it: a copy at most
    CLIENT_CACHE_SECONDS old, so a change to a client (disabled, a new secret) takes effect within
    that time (a disable or a delete at once in the process that made it); unknown ids are not kept."""
    return current_app.extensions["drawbridge.recent_clients"].get(client_id)


def read_enabled_client(client_id: str) -> Client | None:
    """An enabled client as a copy outside any session, only ever read: the session's own objects
    stay untouched. A disabled client is as unknown as a missing one, and so is an id no client can
    have: one holding a NUL, which the HTTP Basic header can carry (RFC 7617) and PostgreSQL refuses."""
    if not storable(client_id):
        return None
    row = db.session.execute(
        select(*Client.__table__.columns).where(Client.client_id == client_id, Client.disabled_at.is_(None))
    ).mappings().first()
    return Client(**row) if row is not None else None


def save_token(token: dict, request: object) -> None:
    """Access tokens are self-contained JWTs and the grants store refresh tokens themselves."""


def config_oauth(app: Flask, server: AuthorizationServer) -> None:
    """The one place grants and endpoints are registered."""
    settings = app.config["SETTINGS"]
    app.config["OAUTH2_SCOPES_SUPPORTED"] = sorted(scopes.SCOPE_NAMES)
    app.extensions["drawbridge.recent_clients"] = RefreshingCache(read_enabled_client, CLIENT_CACHE_SECONDS)
    server.init_app(app, query_client=query_client, save_token=save_token)
    app.extensions["drawbridge.token_issuer"] = AccessTokenIssuer(settings.issuer, settings.access_token_ttl_seconds)
    server.register_grant(AuthorizationCodeGrant, [S256CodeChallenge(required=True)])
    server.register_grant(RefreshTokenGrant)
