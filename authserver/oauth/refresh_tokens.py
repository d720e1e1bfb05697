"""Grants and their refresh tokens: opaque, hashed, rotated on every use, the family revoked on reuse."""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from datetime import timedelta

from authlib.oauth2.rfc6749 import InvalidGrantError
from flask import current_app
from sqlalchemy import select, update

from authserver.models import Client, Grant, RefreshToken
from authserver.oauth.errors import detailed
from shared import revocation
from shared import services as shared_services
from shared.db import db, rowcount, utcnow

logger = logging.getLogger(__name__)

REFRESH_TOKEN_TTL_DAYS = 30
# Access tokens are checked with this much clock leeway, so revocations outlive them by as much.
REVOCATION_MARGIN_SECONDS = 60
# Unknown, gone, or another client's: the client is told the same, the log which (its detail).
INVALID = "The refresh token is invalid."


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_grant(client_id: str, user_id: int, scope: str, resource: str) -> Grant:
    grant = Grant(id=str(uuid.uuid4()), client_id=client_id, user_id=user_id, scope=scope, resource=resource)
    db.session.add(grant)
    return grant


def issue(grant: Grant) -> str:
    """A new refresh token in the grant's family (the caller commits)."""
    token = secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(days=REFRESH_TOKEN_TTL_DAYS)
    db.session.add(RefreshToken(token_hash=token_hash(token), grant_id=grant.id, expires_at=expires))
    return token


def find(token: str, client: Client) -> tuple[RefreshToken, Grant]:
    """The live token and its grant; a reused token revokes the whole family (OAuth 2.1 4.3.1)."""
    row = db.session.scalar(select(RefreshToken).where(RefreshToken.token_hash == token_hash(token)))
    grant = db.session.get(Grant, row.grant_id) if row else None
    if row is None or grant is None:
        raise detailed(InvalidGrantError(INVALID), "no refresh token matches the one presented" if row is None else f"its grant {row.grant_id} is gone")
    if grant.client_id != client.client_id:
        raise detailed(InvalidGrantError(INVALID), f"the refresh token is client {grant.client_id}'s, presented by {client.client_id}")
    if grant.revoked_at is not None:
        raise InvalidGrantError("The refresh token was revoked.")
    if row.rotated_at is not None:
        revoke_grant(grant, reason="refresh_token_reused")
        raise InvalidGrantError("The refresh token was already used; every token of this grant is now revoked.")
    if row.expires_at <= utcnow():
        raise InvalidGrantError("The refresh token has expired.")
    return row, grant


def rotate(row: RefreshToken, grant: Grant) -> str:
    """Retire `row` and issue its successor; if another request retired it first, that is reuse."""
    retired = db.session.execute(
        update(RefreshToken).where(RefreshToken.id == row.id, RefreshToken.rotated_at.is_(None)).values(rotated_at=utcnow())
    )
    if rowcount(retired) != 1:
        db.session.rollback()
        current = db.session.get(Grant, grant.id)
        if current is not None:  # a grant gone with its client: deleting the client voided its tokens
            revoke_grant(current, reason="refresh_token_reused")
        raise InvalidGrantError("The refresh token was already used; every token of this grant is now revoked.")
    return issue(grant)


def revoke_grant(grant: Grant, reason: str) -> None:
    """End a grant: its refresh tokens stop working and its access tokens fail at the resource server.
    A grant ended already gets its revocation-set entry written again (the same entry), so a caller
    whose first attempt found Redis unreachable (redis.RedisError, after the commit) can retry."""
    settings = current_app.config["SETTINGS"]
    newly = grant.revoked_at is None
    if grant.revoked_at is None:
        grant.revoked_at = utcnow()
        db.session.commit()
    until = revocation.epoch(grant.revoked_at) + settings.access_token_ttl_seconds + REVOCATION_MARGIN_SECONDS
    shared_services.of().revocations.revoke(revocation.GRANT, grant.id, until)
    if newly:
        logger.warning("grant_revoked", extra={"grant_id": grant.id, "reason": reason, "client_id": grant.client_id})
