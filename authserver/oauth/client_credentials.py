"""The client_credentials grant (RFC 6749 section 4.4): a confidential client acting on its own behalf.

Machines ask for a token every few minutes each, so this grant is the token endpoint's busiest
path. It reads the form once and checks the client, its grant, scope and resource directly, with
Authlib's error classes, instead of going through Authlib's generic request and grant objects
(which cost more than signing the token). The other grants stay on Authlib (grants.py).
"""

from __future__ import annotations

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import (
    InvalidClientError,
    InvalidScopeError,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from flask import Response, request
from werkzeug.datastructures import MultiDict

from authserver import clients
from authserver.extensions import authorization
from authserver.models import Client
from authserver.oauth.errors import describe
from authserver.oauth.resources import resolve_audience
from authserver.oauth.server import recent_client
from authserver.oauth.tokens import token_issuer
from shared import scopes
from shared.app import current_settings
from shared.db import db

GRANT_TYPE = "client_credentials"
TOKEN_RESPONSE_HEADERS = [("Content-Type", "application/json"), ("Cache-Control", "no-store"), ("Pragma", "no-cache")]


def token_response(form: MultiDict[str, str]) -> Response:
    """Answer a token request whose grant_type is client_credentials: a token or an RFC 6749 5.2 error."""
    try:
        client = authenticate(form.get("client_id"), form.get("client_secret"))
        if not client.check_grant_type(GRANT_TYPE):
            raise UnauthorizedClientError(f"The client is not authorized to use grant_type={GRANT_TYPE}.")
        scope = granted_scope(client, form.get("scope"))
        audience = resolve_audience(form.getlist("resource"), current_settings().known_resources)
    except OAuth2Error as error:
        return authorization.handle_error_response(None, error)
    token = token_issuer().issue(client_id=client.client_id, subject=client.client_id, scope=scope, audience=audience, grant_type=GRANT_TYPE)
    if clients.mark_used(client):
        db.session.commit()
    return authorization.handle_response(200, token, TOKEN_RESPONSE_HEADERS)


def authenticate(posted_id: str | None, posted_secret: str | None) -> Client:
    """The client by client_secret_basic, else client_secret_post (RFC 6749 section 2.3.1). Every
    failure is the same 401 invalid_client, so a caller cannot tell unknown ids from wrong secrets."""
    # Authlib reads the headers with .get; types-authlib asks for a dict where any mapping does.
    client_id, secret = extract_basic_authorization(request.headers)  # type: ignore[arg-type]
    method = "client_secret_basic"
    if client_id is None:
        client_id, secret, method = posted_id, posted_secret, "client_secret_post"
    client = recent_client(client_id) if client_id and secret else None
    if client is None or secret is None or not client.check_endpoint_auth_method(method, "token") or not client.check_client_secret(secret):
        raise InvalidClientError(status_code=401, description="Client authentication failed.")
    return client


def granted_scope(client: Client, requested_scope: str | None) -> str:
    """The requested scopes, or all the client's scopes when it asks for none (RFC 6749 3.3)."""
    allowed = scopes.parse(client.scope)
    requested = scopes.parse(requested_scope)
    if not requested:
        if not allowed:
            raise InvalidScopeError("This client has no scopes; ask an administrator to grant some.")
        return " ".join(allowed)
    refused = [s for s in requested if s not in allowed]
    if refused:
        raise InvalidScopeError(describe(f"Scope not allowed for this client: {' '.join(refused)}"))
    return " ".join(requested)
