"""The tokens revocation (RFC 7009) and introspection (RFC 7662) are shown, found as we issued them.

An access token is one of our RFC 9068 JWTs: its signature is checked against the keys we publish
and its `iss` against ours before anything of it is believed, so no one can revoke or look into a
token by making one up. A refresh token is opaque and found by its SHA-256 hash, as the refresh
grant finds it. Neither is stored or logged: the revocation set keeps an access token's `jti`, a
refresh token ends its grant (refresh_tokens.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from authlib.oauth2.rfc6749 import InvalidRequestError
from joserfc import jws, jwt
from joserfc.errors import JoseError
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from authserver import keys
from authserver.models import Client, Grant, RefreshToken
from authserver.oauth import refresh_tokens
from authserver.oauth.tokens import TOKEN_TYPE_HEADER, token_issuer
from shared import revocation
from shared import services as shared_services
from shared.db import db

ACCESS_TOKEN = "access_token"
REFRESH_TOKEN = "refresh_token"
# What RFC 7662 section 2.2's token_type says of each (RFC 6749 section 7.1 names "Bearer").
INTROSPECTED_TYPES = {ACCESS_TOKEN: "Bearer", REFRESH_TOKEN: "refresh_token"}
# What every access token we sign carries (tokens.py), besides `iss`.
CLAIMS = ("client_id", "sub", "aud", "iat", "exp", "jti")
# Our JWTs are under 1 KiB and refresh tokens 43 characters: anything longer is none of ours, and
# is not parsed or looked up.
MAX_TOKEN_CHARS = 8192


@dataclass(frozen=True)
class FoundToken:
    """A token we issued, whatever its state now; `is_expired` and `is_revoked` say whether it is
    still good (the methods Authlib's introspection endpoint calls)."""

    token_type: str
    client_id: str
    subject: str
    scope: str
    audience: str
    issued_at: int
    expires_at: int
    token_id: str | None = None  # an access token's jti
    grant_id: str | None = None  # the person's grant it belongs to, if any
    refresh_token: RefreshToken | None = None
    grant: Grant | None = None

    def check_client(self, client: Client) -> bool:
        """Whether it was issued to `client`."""
        return self.client_id == client.client_id

    def is_expired(self) -> bool:
        return self.expires_at <= time.time()

    def is_revoked(self) -> bool:
        """An access token: what the resource server checks on every call (the revocation set). A
        refresh token: its grant ended, or it was used already (rotated, OAuth 2.1 section 4.3.1)."""
        if self.refresh_token is not None and self.grant is not None:
            return self.grant.revoked_at is not None or self.refresh_token.rotated_at is not None
        entries = revocation.entries_of(self.token_id or "", self.client_id, self.subject, self.grant_id)
        return shared_services.of().revocations.any_revoked(entries, self.issued_at)


def presented(form: MultiDict[str, str]) -> tuple[str, str | None]:
    """The `token` (REQUIRED) and `token_type_hint` (OPTIONAL) of a request, RFC 7009 section 2.1
    and RFC 7662 section 2.1. Missing, empty ("Parameters sent without a value MUST be treated as if
    they were omitted", RFC 6749 section 3.1) or repeated ("MUST NOT be included more than once"):
    invalid_request."""
    for name in ("token", "token_type_hint"):
        if len(form.getlist(name)) > 1:
            raise InvalidRequestError(f"The {name} parameter is repeated.")
    token = form.get("token")
    if not token:
        raise InvalidRequestError("Missing token.")
    return token, form.get("token_type_hint") or None


def find(token: str, hint: str | None) -> FoundToken | None:
    """The token as we issued it, or None. `hint` (RFC 7009 and RFC 7662, `token_type_hint`) only
    says which kind to try first: "If the server is unable to locate the token using the given
    hint, it MUST extend its search across all of its supported token types"; an unknown hint is
    no hint."""
    if len(token) > MAX_TOKEN_CHARS:
        return None
    finders = [find_refresh_token, find_access_token] if hint == REFRESH_TOKEN else [find_access_token, find_refresh_token]
    for finder in finders:
        found = finder(token)
        if found is not None:
            return found
    return None


def find_access_token(token: str) -> FoundToken | None:
    """One of our access tokens, signed with a key we publish and naming us as issuer."""
    issuer = token_issuer()
    try:
        header = jws.extract_compact(token.encode()).protected
    except (JoseError, ValueError):
        return None
    if header.get("typ") != TOKEN_TYPE_HEADER or header.get("alg") != keys.ALGORITHM:
        return None
    key = keys.published_key(str(header.get("kid", "")), issuer.ttl_seconds)
    if key is None:
        return None
    try:
        claims = jwt.decode(token, key, algorithms=[keys.ALGORITHM]).claims
    except (JoseError, ValueError):
        return None
    if claims.get("iss") != issuer.issuer or any(claims.get(name) is None for name in CLAIMS):
        return None
    return FoundToken(
        token_type=ACCESS_TOKEN,
        client_id=str(claims["client_id"]),
        subject=str(claims["sub"]),
        scope=str(claims.get("scope", "")),
        audience=str(claims["aud"]),
        issued_at=int(claims["iat"]),
        expires_at=int(claims["exp"]),
        token_id=str(claims["jti"]),
        grant_id=str(claims["grant_id"]) if claims.get("grant_id") else None,
    )


def find_refresh_token(token: str) -> FoundToken | None:
    """One of our refresh tokens (current, used or expired) and its grant."""
    row = db.session.scalar(select(RefreshToken).where(RefreshToken.token_hash == refresh_tokens.token_hash(token)))
    grant = db.session.get(Grant, row.grant_id) if row is not None else None
    if row is None or grant is None:
        return None
    return FoundToken(
        token_type=REFRESH_TOKEN,
        client_id=grant.client_id,
        subject=str(grant.user_id),
        scope=grant.scope,
        audience=grant.resource,
        issued_at=revocation.epoch(row.created_at),
        expires_at=revocation.epoch(row.expires_at),
        grant_id=grant.id,
        refresh_token=row,
        grant=grant,
    )
