"""Token revocation (RFC 7009): a client hands back an access or a refresh token it was given.

The request (section 2.1): the client authenticates as at the token endpoint (a confidential client
with client_secret_basic or client_secret_post, a public client by its client_id alone), then sends
`token` and, optionally, `token_type_hint`, which only says which kind to look for first.

The answer (section 2.2) is 200 once the token is void, and 200 as well for a token we do not know,
one issued to another client (left as it is), or one expired: "invalid tokens do not cause an
error response since the client cannot handle such an error in a reasonable way". We revoke both
kinds of token, so unsupported_token_type (section 2.2.1) is never answered. What is an error: no
`token` (400 invalid_request) and a client that fails to authenticate (401 invalid_client).

Revoking an access token voids its `jti` in the revocation set until it expires, so the resource
server refuses it on its next call. Revoking a refresh token ends its grant: every refresh token of
the grant, and, through the grant's entry in the revocation set, every access token issued under it
(section 2.1: the server "SHOULD also invalidate all access tokens based on the same authorization
grant").
"""

from __future__ import annotations

import logging

from authlib.oauth2 import rfc7009
from authlib.oauth2.rfc6749 import OAuth2Request

from authserver.models import Client
from authserver.oauth import refresh_tokens, token_lookup
from authserver.oauth.client_lookup import authenticate_endpoint_client
from authserver.oauth.token_lookup import ACCESS_TOKEN, FoundToken
from shared import metrics, revocation
from shared import services as shared_services

logger = logging.getLogger(__name__)


class RevocationEndpoint(rfc7009.RevocationEndpoint):
    """POST /revoke, registered in config_oauth; views/oauth.py hands it the request."""

    #: Also advertised in the metadata (`revocation_endpoint_auth_methods_supported`).
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def authenticate_endpoint_client(self, request: OAuth2Request) -> Client:
        return authenticate_endpoint_client(self.server, request, self.CLIENT_AUTH_METHODS, self.ENDPOINT_NAME)

    def authenticate_token(self, request: OAuth2Request, client: Client) -> FoundToken | None:
        """The token to revoke: ours, and issued to this client. Authlib refuses another client's
        token with invalid_grant; section 2.2 answers 200 for an invalid token, and to that client
        another's token is one, so it is left alone and the answer is the same as for any other
        (which also tells the caller nothing about whether the token exists)."""
        token, hint = token_lookup.presented(request.form)  # type: ignore[arg-type]  # a MultiDict (token_form.py)
        found = token_lookup.find(token, hint)
        return found if found is not None and found.check_client(client) else None

    def revoke_token(self, token: FoundToken, request: OAuth2Request) -> None:
        if token.token_type == ACCESS_TOKEN:
            # Kept as long as the resource server could still accept the token (its clock leeway).
            until = token.expires_at + refresh_tokens.REVOCATION_MARGIN_SECONDS
            shared_services.of().revocations.revoke(revocation.TOKEN, token.token_id or "", until)
        elif token.grant is not None:
            refresh_tokens.revoke_grant(token.grant, reason="refresh_token_revoked")
        metrics.TOKENS_REVOKED.labels(token.token_type).inc()
        logger.info(
            "token_revoked",
            extra={"token_type": token.token_type, "client_id": token.client_id, "jti": token.token_id, "grant_id": token.grant_id},
        )
