"""The authorization_code grant (RFC 6749 section 4.1) with PKCE (pkce.py): a person consents in the
browser, the client exchanges the code once for a token bound to one resource (RFC 8707)."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from datetime import timedelta
from typing import Any

from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError, grants
from authlib.oauth2.rfc6749.hooks import hooked
from flask import current_app
from sqlalchemy import select, update

from authserver import clients
from authserver.models import AuthorizationCode, Client, Grant, User
from authserver.oauth import client_secrets, refresh_tokens
from authserver.oauth.errors import detailed
from authserver.oauth.resources import InvalidTargetError, requested_resources, resolve_audience, same_resource
from authserver.oauth.tokens import token_issuer
from shared import scopes
from shared.db import db, rowcount, utcnow

AUTHORIZATION_CODE_TTL_SECONDS = 60


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    """RFC 6749 section 4.1 with PKCE: a person consents in the browser, the client gets a code."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    #: Set by the consent page: the scopes the person left ticked.
    consented_scope: str | None = None

    # Authlib passes these what query_client returns, a Client; its stubs name any ClientMixin.
    @staticmethod
    def validate_authorization_redirect_uri(request, client: Client) -> str:  # type: ignore[override]
        """Authlib's version puts the URI in the error text, where a quote would crash it."""
        redirect_uri = request.payload.redirect_uri
        if redirect_uri:
            if not client.check_redirect_uri(redirect_uri):
                raise InvalidRequestError("The redirect_uri is not registered for this client.")
            return redirect_uri
        default = client.get_default_redirect_uri()
        if not default:
            raise InvalidRequestError("Missing redirect_uri: this client registered several, name one.")
        return default

    def validate_authorization_request(self) -> str:
        redirect_uri = super().validate_authorization_request()
        settings = current_app.config["SETTINGS"]
        try:
            # Our own attribute on Authlib's request, read by the consent page and save_authorization_code.
            self.request.resource = resolve_audience(requested_resources(self.request), settings.known_resources)  # type: ignore[attr-defined]
        except InvalidTargetError as error:
            error.redirect_uri = redirect_uri
            raise
        return redirect_uri

    def save_authorization_code(self, code: str, request) -> None:
        granted = scopes.parse(request.scope)
        if self.consented_scope is not None:
            granted = [s for s in granted if s in set(self.consented_scope.split())]
        db.session.add(
            AuthorizationCode(
                code_hash=_hash(code),
                client_id=request.client.client_id,
                user_id=request.user.id,
                redirect_uri=request.payload.redirect_uri or request.client.get_default_redirect_uri(),
                scope=" ".join(granted),
                resource=request.resource,
                code_challenge=request.payload.data["code_challenge"],
                code_challenge_method=request.payload.data["code_challenge_method"],
                expires_at=utcnow() + timedelta(seconds=AUTHORIZATION_CODE_TTL_SECONDS),
            )
        )
        db.session.commit()

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:  # type: ignore[override]
        row = db.session.scalar(
            select(AuthorizationCode).where(
                AuthorizationCode.code_hash == _hash(code), AuthorizationCode.client_id == client.client_id
            )
        )
        if row is None:
            return None
        if row.used_at is not None:
            _refuse_replay(row)
        if row.expires_at <= utcnow():
            raise InvalidGrantError("The authorization code has expired; start the authorization again.")
        return row

    def authenticate_user(self, authorization_code: AuthorizationCode) -> User | None:
        user = db.session.get(User, authorization_code.user_id)
        return user if user and user.disabled_at is None else None

    @hooked
    def create_token_response(self) -> tuple[int, dict[str, Any], Collection[tuple[str, str]]]:
        code: AuthorizationCode | None = self.request.authorization_code
        if code is None:  # Authlib's validate_token_request sets it or refuses the request
            raise InvalidGrantError("The authorization code is not valid.")
        audience = same_resource(self.request, code.resource)
        user = self.authenticate_user(code)
        if user is None:
            raise InvalidGrantError("The person who granted this code can no longer log in.")
        # Single use, decided by the database: of two concurrent exchanges only one wins.
        won = db.session.execute(
            update(AuthorizationCode)
            .where(AuthorizationCode.id == code.id, AuthorizationCode.used_at.is_(None))
            .values(used_at=utcnow())
        )
        if rowcount(won) != 1:
            db.session.rollback()
            replayed = db.session.get(AuthorizationCode, code.id)
            if replayed is None:  # gone with its client, whose deletion voided its tokens
                raise detailed(InvalidGrantError("The authorization code is not valid."), "the code was deleted with its client during the exchange")
            _refuse_replay(replayed)
        grant = refresh_tokens.start_grant(self.client.client_id, user.id, code.scope, code.resource)
        code.grant_id = grant.id
        token = token_issuer().issue(
            client_id=self.client.client_id,
            subject=str(user.id),
            scope=code.scope,
            audience=audience,
            grant_type=self.GRANT_TYPE,
            grant_id=grant.id,
        )
        if self.client.check_grant_type("refresh_token"):
            token["refresh_token"] = refresh_tokens.issue(grant)
        clients.mark_used(self.client, client_secrets.authenticating(self.client.client_id))
        db.session.commit()
        return 200, token, self.TOKEN_RESPONSE_HEADER

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        """Codes are kept, marked used, so a replay can be recognised and its tokens revoked."""


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _refuse_replay(code: AuthorizationCode) -> None:
    """RFC 6749 4.1.2: a code used twice is refused, and the tokens issued from it SHOULD be revoked."""
    if code.grant_id:
        grant = db.session.get(Grant, code.grant_id)
        if grant is not None and grant.revoked_at is None:
            refresh_tokens.revoke_grant(grant, reason="authorization_code_replayed")
    raise InvalidGrantError("The authorization code was already used; the tokens issued from it are revoked.")
