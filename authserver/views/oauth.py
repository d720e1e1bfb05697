"""Thin OAuth routes: token (every grant through Authlib), revocation and introspection (Authlib
endpoints), registration (our own endpoints: oauth/registration.py says why), JWKS and the
metadata documents."""

from __future__ import annotations

import functools
import logging
from typing import Any

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6750 import InvalidTokenError
from authlib.oauth2.rfc7591 import InvalidClientMetadataError
from flask import Blueprint, Response, g, jsonify, request

from authserver import clients, keys, registered_clients
from authserver.extensions import authorization
from authserver.oauth import initial_access_tokens, registration
from authserver.oauth.errors import describe, detailed
from authserver.oauth.introspection import IntrospectionEndpoint
from authserver.oauth.metadata import authorization_server_metadata
from authserver.oauth.registration import client_information, validate_metadata
from authserver.oauth.revocation import RevocationEndpoint
from authserver.oauth.server import ANSWERED_ERROR
from authserver.oauth.token_form import TokenRequest, token_request_form, urlencoded_form
from authserver.oauth.transport import secure_transport_only
from authserver.services import services
from authserver.throttle import Counter
from authserver.unstorable_input import UNSTORABLE_JSON
from serving.request_body import read_body
from shared import json_limits, metrics
from shared.app import current_settings
from shared.logging import quoted
from shared.unstorable import storable_json

logger = logging.getLogger(__name__)
bp = Blueprint("oauth", __name__)

METADATA_MAX_AGE_SECONDS = 300
REGISTRATION_WINDOW_SECONDS = 3600
# The grant label of a token request's count: one of these, else "other" (a caller's made-up
# grant_type must not make a series of its own).
GRANT_TYPES = frozenset({"authorization_code", "refresh_token", "client_credentials"})


@bp.after_request
def allow_cross_origin(response: Response) -> Response:
    """Browser-based MCP clients call these endpoints from their own origin; none uses cookies."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, MCP-Protocol-Version"
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, DELETE, OPTIONS"
    return response


@bp.post("/token")
@secure_transport_only
def token() -> Response:
    g.pop(ANSWERED_ERROR, None)  # g outlives a request only where a test holds the app context
    g.token_grant = "other"
    try:
        form = token_request_form()
    except OAuth2Error as error:
        return authorization.handle_error_response(None, error)
    grant_type = form.get("grant_type", "")
    g.token_grant = grant_type if grant_type in GRANT_TYPES else "other"
    return authorization.create_token_response(TokenRequest(form))


@bp.after_request
def count_token_request(response: Response) -> Response:
    """Each token request counted by grant and outcome (one increment), however it was answered:
    by the grant, or by an error handler (an outage's temporarily_unavailable, a fault's 500)."""
    if request.endpoint == "oauth.token":
        outcome = g.pop(ANSWERED_ERROR, None) or ("issued" if response.status_code == 200 else "server_error")
        _token_requests(g.get("token_grant", "other"), outcome).inc()
    return response


@functools.lru_cache(maxsize=256)
def _token_requests(grant: str, outcome: str) -> Any:
    """The labelled series, looked up once per combination (`labels()` locks and builds a key each time)."""
    return metrics.TOKEN_REQUESTS.labels(grant, outcome)


@bp.post("/revoke")
@secure_transport_only
def revoke() -> Response:
    """RFC 7009 (oauth/revocation.py)."""
    return _token_endpoint(RevocationEndpoint.ENDPOINT_NAME)


@bp.post("/introspect")
@secure_transport_only
def introspect() -> Response:
    """RFC 7662 (oauth/introspection.py)."""
    return _token_endpoint(IntrospectionEndpoint.ENDPOINT_NAME)


def _token_endpoint(name: str) -> Response:
    """Authlib's endpoint `name` over the urlencoded form, read once as the token view reads it."""
    try:
        form = urlencoded_form()
    except OAuth2Error as error:
        return authorization.handle_error_response(None, error)
    return authorization.create_endpoint_response(name, TokenRequest(form))


@bp.post("/register")
@secure_transport_only
def register() -> Response | tuple[Response, int, dict[str, str]]:
    settings = current_settings()
    counter: Counter = services().counter
    attempts = counter.hit(f"register:ip:{request.remote_addr}", REGISTRATION_WINDOW_SECONDS)
    if attempts > settings.registrations_per_ip_per_hour:
        metrics.REGISTRATIONS.labels("rate_limited").inc()
        body = {"error": "invalid_request", "error_description": "Too many registrations from this address; retry later."}
        return jsonify(body), 429, {"Retry-After": str(REGISTRATION_WINDOW_SECONDS)}
    try:
        # RFC 7591 section 3: an initial access token, when sent, is checked first and never ignored.
        initial_access_token = initial_access_tokens.presented(request.headers.get("Authorization"))
        allowance = registration.OPEN if initial_access_token is None else registration.allowance_of(initial_access_token)
        metadata = registration.within(validate_metadata(registration_document()), allowance)
        registered = registered_clients.register_client(metadata, initial_access_token)
    except OAuth2Error as error:
        metrics.REGISTRATIONS.labels(error.error or "error").inc()
        return authorization.handle_error_response(None, error)
    metrics.REGISTRATIONS.labels("registered").inc()
    logger.info(
        "client_registered",
        extra={
            "registered_client_id": registered.client.client_id,
            "initial_access_token_id": initial_access_token.id if initial_access_token else None,
        },
    )
    body = client_information(registered.client, settings.issuer.rstrip("/"))
    body["registration_access_token"] = registered.registration_access_token
    if registered.client_secret:
        body["client_secret"] = registered.client_secret
    return jsonify(body), 201, {"Cache-Control": "no-store"}


@bp.route("/register/<client_id>", methods=["GET", "PUT", "DELETE"])
@secure_transport_only
def manage_registration(client_id: str) -> Response | tuple[Response, int] | tuple[str, int]:
    """RFC 7592: read, replace or delete a registration with its registration access token."""
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    client = registered_clients.find_registered(client_id, presented.strip()) if scheme.lower() == "bearer" else None
    if client is None:
        why = f"not the registration access token of a registered client {quoted(client_id)}" if scheme.lower() == "bearer" else "no Bearer token"
        return authorization.handle_error_response(None, detailed(InvalidTokenError("The registration access token is not valid."), why))
    if request.method == "DELETE":
        clients.delete_client(client)
        return "", 204
    if request.method == "PUT":
        try:
            body = registration_document()
            if not isinstance(body, dict) or body.get("client_id") != client_id:
                raise OAuth2Error(describe("The body must repeat this client_id."), error="invalid_client_metadata", status_code=400)
            metadata = registration.within(validate_metadata(body), registration.allowance_for_update(client))
            registered_clients.update_registered_client(client, metadata)
        except clients.ClientSpecError as error:
            return authorization.handle_error_response(None, OAuth2Error(describe(str(error)), error="invalid_client_metadata", status_code=400))
        except OAuth2Error as error:
            return authorization.handle_error_response(None, error)
    response = jsonify(client_information(client, current_settings().issuer.rstrip("/")))
    response.headers["Cache-Control"] = "no-store"
    return response


def registration_document() -> Any:
    """The client metadata sent as JSON, or None if the body is not JSON (validate_metadata says
    what is wrong); JSON nested past json_limits.MAX_DEPTH, or with a string the database cannot
    store (a NUL or an unpaired surrogate), is invalid_client_metadata."""
    if not request.is_json:
        return None
    try:
        document = json_limits.loads(read_body())
    except json_limits.NestedTooDeep as error:
        raise InvalidClientMetadataError(f"The client metadata is {error}.") from None
    except ValueError:
        return None
    if not storable_json(document):
        raise InvalidClientMetadataError(UNSTORABLE_JSON)
    return document


@bp.get("/jwks")
def jwks() -> Response:
    response = jsonify(keys.public_jwks(current_settings().access_token_ttl_seconds))
    response.cache_control.public = True
    response.cache_control.max_age = keys.KEY_CACHE_SECONDS
    return response


@bp.get("/.well-known/oauth-authorization-server")
@bp.get("/.well-known/openid-configuration")
def metadata() -> Response:
    response = jsonify(authorization_server_metadata(current_settings()))
    response.cache_control.public = True
    response.cache_control.max_age = METADATA_MAX_AGE_SECONDS
    return response
