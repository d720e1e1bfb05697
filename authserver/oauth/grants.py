"""The grants the token endpoint serves; each binds its token to one resource (RFC 8707)."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import InvalidScopeError, grants
from authlib.oauth2.rfc6749.hooks import hooked
from flask import current_app

from authserver.oauth.resources import resolve_audience
from shared import scopes


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    """RFC 6749 section 4.4: a confidential client acting on its own behalf."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def validate_token_request(self) -> None:
        super().validate_token_request()
        self.granted_scope = self._granted_scope()
        settings = current_app.config["SETTINGS"]
        self.audience = resolve_audience(self.request.payload.datalist.get("resource", []), settings.known_resources)

    def _granted_scope(self) -> str:
        """The requested scopes, or all the client's scopes when it asks for none (RFC 6749 3.3)."""
        allowed = scopes.parse(self.client.scope)
        requested = scopes.parse(self.request.payload.scope)
        if not requested:
            if not allowed:
                raise InvalidScopeError("This client has no scopes; ask an administrator to grant some.")
            return " ".join(allowed)
        refused = [s for s in requested if s not in allowed]
        if refused:
            raise InvalidScopeError(f"Scope not allowed for this client: {' '.join(refused)}")
        return " ".join(requested)

    @hooked
    def create_token_response(self) -> tuple[int, dict, list]:
        token = self.server.token_issuer.issue(
            client_id=self.client.client_id,
            subject=self.client.client_id,
            scope=self.granted_scope,
            audience=self.audience,
            grant_type=self.GRANT_TYPE,
        )
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER
