"""The client_credentials grant (RFC 6749 section 4.4): a confidential client acting on its own behalf.

Machines ask for a token every few minutes each, so this grant is the token endpoint's busiest
path. It is an Authlib grant like the others with one step of Authlib's replaced for speed: the
client is authenticated against a copy at most CLIENT_CACHE_SECONDS old (client_lookup.py), which
carries its live secrets, not read from the database by Authlib's ClientAuthentication on every
request. It reads its parameters
from the form body only, as the token view parsed it (token_form.py). Its scope policy is the
client's own: a client asking for no scope gets every scope it holds.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc6749 import InvalidClientError, InvalidScopeError, UnauthorizedClientError, grants
from authlib.oauth2.rfc6749.hooks import hooked
from authlib.oauth2.rfc6749.util import extract_basic_authorization

from authserver import clients
from authserver.models import Client, ClientSecret
from authserver.oauth.client_lookup import CLIENT_AUTHENTICATION_FAILED, recent_client
from authserver.oauth.errors import describe, detailed
from authserver.oauth.resources import resolve_audience
from authserver.oauth.tokens import token_issuer
from shared import scopes
from shared.app import current_settings
from shared.db import db, utcnow
from shared.logging import quoted

if TYPE_CHECKING:  # token_form reaches the server object through unstorable_input
    from authserver.oauth.token_form import TokenRequest


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    """A token for the client itself: its `sub` is the client, its scope within the client's."""

    #: What authenticate_token_endpoint_client takes (it replaces Authlib's, which reads this list).
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
    #: The token view's, whose form is a MultiDict (token_form.py).
    request: TokenRequest
    #: Which of the client's secrets it authenticated with, for clients.mark_used.
    secret: ClientSecret | None = None

    # Authlib's stubs name any ClientMixin; ours is a Client, which has its methods without deriving from it.
    def authenticate_token_endpoint_client(self) -> Client:  # type: ignore[override]
        """The client by client_secret_basic, else client_secret_post (RFC 6749 section 2.3.1). Every
        failure is the same 401 invalid_client, so a caller cannot tell unknown ids from wrong secrets."""
        try:
            # Authlib reads the headers with .get; types-authlib asks for a dict where any mapping does.
            client_id, secret = extract_basic_authorization(self.request.headers)  # type: ignore[arg-type]
        except UnicodeDecodeError:  # Basic credentials that are not UTF-8 name no client (RFC 7617)
            raise _refused("the Basic credentials are not UTF-8") from None
        method = "client_secret_basic"
        if client_id is None:
            form = self.request.form
            client_id, secret, method = form.get("client_id"), form.get("client_secret"), "client_secret_post"
        if not (client_id and secret):
            raise _refused(f"no client_id and client_secret by {method}")
        now = utcnow()
        client = recent_client(client_id, now)
        if client is None:
            raise _refused(f"no enabled client has the client_id {quoted(client_id)}")
        if not client.check_endpoint_auth_method(method, "token"):
            raise _refused(f"the client {client_id} may not authenticate by {method}")
        # The copy is shared by concurrent requests: the secret found is kept here, on this request's grant.
        self.secret = client.find_secret(secret, now)
        if self.secret is None:
            raise _refused(f"the client_secret does not match the client {client_id}'s")
        return client

    def validate_token_request(self) -> None:
        client = self.authenticate_token_endpoint_client()
        if not client.check_grant_type(self.GRANT_TYPE):
            raise UnauthorizedClientError(f"The client is not authorized to use grant_type={self.GRANT_TYPE}.")
        self.request.client = client  # type: ignore[assignment]  # as above
        form = self.request.form
        self.scope = granted_scope(client, form.get("scope"))
        self.audience = resolve_audience(form.getlist("resource"), current_settings().known_resources)

    @hooked
    def create_token_response(self) -> tuple[int, dict[str, Any], Collection[tuple[str, str]]]:
        client: Client = self.client
        token = token_issuer().issue(
            client_id=client.client_id, subject=client.client_id, scope=self.scope, audience=self.audience, grant_type=self.GRANT_TYPE
        )
        if clients.mark_used(client, self.secret):
            db.session.commit()
        return 200, token, self.TOKEN_RESPONSE_HEADER


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


def _refused(reason: str) -> InvalidClientError:
    """RFC 6749 section 5.2's 401 invalid_client, alike for every failure; `reason` only in the log."""
    return detailed(InvalidClientError(status_code=401, description=CLIENT_AUTHENTICATION_FAILED), reason)
