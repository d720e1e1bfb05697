"""Thin OAuth routes: token, JWKS and metadata documents."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from authserver import keys
from authserver.extensions import authorization
from authserver.oauth.metadata import authorization_server_metadata
from shared.app import current_settings

bp = Blueprint("oauth", __name__)

METADATA_MAX_AGE_SECONDS = 300


@bp.post("/token")
def token() -> Response:
    return authorization.create_token_response()


@bp.get("/jwks")
def jwks() -> Response:
    response = jsonify(keys.public_jwks(current_settings().access_token_ttl_seconds))
    response.cache_control.public = True
    response.cache_control.max_age = keys.KEY_CACHE_SECONDS
    return response


@bp.get("/.well-known/oauth-authorization-server")
def metadata() -> Response:
    response = jsonify(authorization_server_metadata(current_settings()))
    response.cache_control.public = True
    response.cache_control.max_age = METADATA_MAX_AGE_SECONDS
    return response
