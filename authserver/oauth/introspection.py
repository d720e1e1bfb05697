"""Token introspection (RFC 7662): whether a token is active, and what it allows.

Who may ask (section 4: "the authorization server MUST require authentication of protected
resources that need to access the introspection endpoint"): a confidential client, with
client_secret_basic or client_secret_post, about the tokens issued to itself; and a resource
server holding credentials of its own (a confidential client an operator made with
`drawbridge clients create --introspect`), about any access token. Refresh tokens are only ever
shown to the client that holds them. A public client cannot authenticate, so it may not ask: 401
invalid_client.

The answer (section 2.2) for an active token: active, scope, client_id, sub, exp, iat, iss, aud,
jti (access tokens) and token_type ("Bearer" for an access token, "refresh_token" for a refresh
token). For anything else, a token unknown, malformed, expired, revoked, or one the caller may
not see, it is `{"active": false}` and nothing more: "the authorization server MUST return an
introspection response with the "active" field set to "false"" and "SHOULD NOT include any
additional information about an inactive token". An access token is inactive as soon as the
resource server would refuse it (the same revocation-set entries, shared/revocation.py).
"""

from __future__ import annotations

import logging
from typing import Any

from authlib.oauth2 import rfc7662
from authlib.oauth2.rfc6749 import OAuth2Request

from authserver.models import Client
from authserver.oauth import token_lookup
from authserver.oauth.client_lookup import authenticate_endpoint_client
from authserver.oauth.token_lookup import ACCESS_TOKEN, INTROSPECTED_TYPES, FoundToken
from authserver.oauth.tokens import token_issuer
from shared import metrics

logger = logging.getLogger(__name__)


class IntrospectionEndpoint(rfc7662.IntrospectionEndpoint):
    """POST /introspect, registered in config_oauth; views/oauth.py hands it the request."""

    #: Confidential clients only; also advertised (`introspection_endpoint_auth_methods_supported`).
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def authenticate_endpoint_client(self, request: OAuth2Request) -> Client:
        return authenticate_endpoint_client(self.server, request, self.CLIENT_AUTH_METHODS, self.ENDPOINT_NAME)

    def authenticate_token(self, request: OAuth2Request, client: Client) -> FoundToken | None:
        """The token, if it is ours and this client may see it; the hint only orders the search."""
        token, hint = token_lookup.presented(request.form)  # type: ignore[arg-type]  # a MultiDict (token_form.py)
        found = token_lookup.find(token, hint)
        return found if found is not None and self.check_permission(found, client, request) else None

    def check_permission(self, token: FoundToken, client: Client, request: OAuth2Request) -> bool:
        """A client sees its own tokens; a resource server's credentials any access token."""
        return token.check_client(client) or (client.may_introspect and token.token_type == ACCESS_TOKEN)

    def create_introspection_payload(self, token: FoundToken | None) -> dict[str, Any]:
        payload = super().create_introspection_payload(token)
        metrics.INTROSPECTIONS.labels("true" if payload["active"] else "false").inc()
        logger.info(
            "token_introspected",
            extra={
                "active": payload["active"],
                "token_type": token.token_type if token else None,
                "jti": token.token_id if token else None,
                "token_client_id": token.client_id if token else None,
            },
        )
        return payload

    def introspect_token(self, token: FoundToken) -> dict[str, Any]:
        """An active token's claims (section 2.2); Authlib adds `"active": true`."""
        payload: dict[str, Any] = {
            "scope": token.scope,
            "client_id": token.client_id,
            "sub": token.subject,
            "exp": token.expires_at,
            "iat": token.issued_at,
            "iss": token_issuer().issuer,
            "aud": token.audience,
            "token_type": INTROSPECTED_TYPES[token.token_type],
        }
        if token.token_id is not None:
            payload["jti"] = token.token_id
        return payload
