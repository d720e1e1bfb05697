"""Initial access tokens (RFC 7591 section 3): an operator's permission to register clients.

Open registration creates only clients that act for a person (registration.py). A machine client
(client_credentials) registers with an initial access token an operator issued: the token's scopes
bound the client's, it expires, and it may be limited to a number of registrations. Only its
SHA-256 hash is stored, as client secrets are (client_secrets.py): it is random, not a password.
Operators list what they issued (never the token) and revoke a token by its id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from authlib.oauth2.rfc6750 import InvalidTokenError
from sqlalchemy import delete, or_, select, update

from authserver.models import InitialAccessToken
from authserver.oauth import client_secrets
from authserver.oauth.errors import detailed
from shared import scopes
from shared.db import db, rowcount, utcnow

logger = logging.getLogger(__name__)

MAX_TTL_SECONDS = 365 * 86400
# Ids are the table's integer key: a larger number names no token (and would overflow the query).
MAX_ID = 2**31 - 1
REFUSED = "The initial access token is not valid: unknown, expired or used up. Ask the operator for a new one."


class InitialAccessTokenSpecError(ValueError):
    """The requested token cannot be issued; the message says what to change."""


@dataclass(frozen=True)
class NewInitialAccessToken:
    """An issued token and its value, which is shown once and never stored in clear."""

    row: InitialAccessToken
    token: str


def issue(scope: str, ttl_seconds: int, uses: int | None = None) -> NewInitialAccessToken:
    """A new token allowing `scope`, valid for `ttl_seconds`, for `uses` registrations (None: any)."""
    allowed = scopes.parse(scope)
    if not allowed:
        raise InitialAccessTokenSpecError("Name the scopes a client registered with the token may hold.")
    if unknown := scopes.unknown(allowed):
        raise InitialAccessTokenSpecError(f"Unknown scopes: {' '.join(unknown)}. Known: {' '.join(sorted(scopes.SCOPE_NAMES))}.")
    if not 0 < ttl_seconds <= MAX_TTL_SECONDS:
        raise InitialAccessTokenSpecError(f"The lifetime must be between 1 second and {MAX_TTL_SECONDS // 86400} days.")
    if uses is not None and uses < 1:
        raise InitialAccessTokenSpecError("A token allows at least one registration.")
    token = client_secrets.generate()
    row = InitialAccessToken(
        token_hash=client_secrets.hash_secret(token),
        scope=" ".join(allowed),
        expires_at=utcnow() + timedelta(seconds=ttl_seconds),
        uses_left=uses,
    )
    db.session.add(row)
    db.session.commit()
    logger.info("initial_access_token_issued", extra={"initial_access_token_id": row.id, "scope": row.scope})
    return NewInitialAccessToken(row=row, token=token)


@dataclass(frozen=True)
class IssuedToken:
    """An issued token as an operator sees it: everything but the token and its hash."""

    id: int
    scope: str
    created_at: datetime
    expires_at: datetime
    #: Registrations it may still make; None: any number until it expires.
    uses_left: int | None
    #: "usable", "expired" or "used up".
    state: str


def list_issued(include_unusable: bool = False) -> list[IssuedToken]:
    """The tokens that can still register clients, newest first; with `include_unusable`, also those
    expired or used up."""
    now = utcnow()
    query = select(InitialAccessToken).order_by(InitialAccessToken.created_at.desc(), InitialAccessToken.id.desc())
    if not include_unusable:
        query = query.where(
            InitialAccessToken.expires_at > now, or_(InitialAccessToken.uses_left.is_(None), InitialAccessToken.uses_left > 0)
        )
    return [
        IssuedToken(
            id=row.id, scope=row.scope, created_at=row.created_at, expires_at=row.expires_at, uses_left=row.uses_left,
            state=_state(row, now),
        )
        for row in db.session.scalars(query)
    ]


def revoke(token_id: int) -> None:
    """Delete a token: from now on it registers nothing (401 invalid_token). Clients it registered stay."""
    removed = db.session.execute(delete(InitialAccessToken).where(InitialAccessToken.id == token_id)) if 0 < token_id <= MAX_ID else None
    if removed is None or rowcount(removed) != 1:
        db.session.rollback()
        raise InitialAccessTokenSpecError(f"No registration token with id {token_id}.")
    db.session.commit()
    logger.warning("initial_access_token_revoked", extra={"initial_access_token_id": token_id})


def presented(authorization: str | None) -> InitialAccessToken | None:
    """The usable token a registration sends as `Authorization: Bearer` (RFC 6750 section 2.1), or
    None when it sends no Authorization header. Any other credential is refused with 401
    invalid_token (RFC 6750 section 3.1), never taken for an open registration."""
    if authorization is None:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise detailed(InvalidTokenError(REFUSED), "the Authorization header holds no Bearer token")
    # Looked up by its SHA-256: timing can at most reveal a prefix of a hash of 256 random bits.
    token = db.session.scalar(select(InitialAccessToken).where(InitialAccessToken.token_hash == client_secrets.hash_secret(value.strip())))
    if token is None:
        raise detailed(InvalidTokenError(REFUSED), "no initial access token matches the one presented")
    state = _state(token, utcnow())
    if state != "usable":
        raise detailed(InvalidTokenError(REFUSED), f"initial access token {token.id} is {state}")
    return token


def spend(token: InitialAccessToken) -> None:
    """Count one registration against `token` in the caller's transaction. The database decides,
    row by row: of registrations racing for the last use, one wins and the others are refused."""
    spent = db.session.execute(
        update(InitialAccessToken)
        .where(
            InitialAccessToken.id == token.id,
            InitialAccessToken.expires_at > utcnow(),
            or_(InitialAccessToken.uses_left.is_(None), InitialAccessToken.uses_left > 0),
        )
        # NULL - 1 stays NULL: a token without a use limit keeps none.
        .values(uses_left=InitialAccessToken.uses_left - 1)
    )
    if rowcount(spent) != 1:
        db.session.rollback()
        raise detailed(InvalidTokenError(REFUSED), f"initial access token {token.id} was used up or expired as this registration spent it")


def _state(row: InitialAccessToken, now: datetime) -> str:
    if row.expires_at <= now:
        return "expired"
    return "used up" if row.uses_left is not None and row.uses_left < 1 else "usable"
