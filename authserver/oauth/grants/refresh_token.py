"""The refresh_token grant (RFC 6749 section 6) with rotation and reuse detection (refresh_tokens.py):
the new access token may narrow the grant's scope, never widen it, and stays bound to its resource."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError, InvalidScopeError, grants
from authlib.oauth2.rfc6749.hooks import hooked

from authserver import clients
from authserver.models import Grant, User
from authserver.oauth import client_secrets, refresh_tokens
from authserver.oauth.errors import describe
from authserver.oauth.resources import same_resource
from authserver.oauth.tokens import token_issuer
from shared import scopes
from shared.db import db


class RefreshTokenGrant(grants.RefreshTokenGrant):
    """RFC 6749 section 6 with rotation: every refresh returns a new refresh token."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def validate_token_request(self) -> None:
        client = self._validate_request_client()  # type: ignore[attr-defined]  # Authlib's, absent from types-authlib
        self.request.client = client
        presented = self.request.form.get("refresh_token")
        if not presented:
            raise InvalidRequestError("Missing refresh_token.")
        self.row, self.grant = refresh_tokens.find(presented, client)
        person = db.session.get(User, self.grant.user_id)
        if person is None or person.disabled_at is not None:
            raise InvalidGrantError("The person who granted this refresh token can no longer log in.")
        granted = scopes.parse(self.grant.scope)
        payload = self.request.payload
        if payload is None:  # Authlib sets it on every token request
            raise InvalidRequestError("The token request has no parameters.")
        requested = scopes.parse(payload.scope)
        if widened := [s for s in requested if s not in granted]:
            raise InvalidScopeError(describe(f"A refresh may narrow the scope, never widen it: {' '.join(widened)}"))
        self.scope = " ".join(requested or granted)
        self.audience = same_resource(self.request, self.grant.resource)

    @hooked
    def create_token_response(self) -> tuple[int, dict[str, Any], Collection[tuple[str, str]]]:
        grant: Grant = self.grant
        new_refresh_token = refresh_tokens.rotate(self.row, grant)
        token = token_issuer().issue(
            client_id=self.client.client_id,
            subject=str(grant.user_id),
            scope=self.scope,
            audience=self.audience,
            grant_type=self.GRANT_TYPE,
            grant_id=grant.id,
        )
        token["refresh_token"] = new_refresh_token
        clients.mark_used(self.client, client_secrets.authenticating(self.client.client_id))
        db.session.commit()
        return 200, token, self.TOKEN_RESPONSE_HEADER
