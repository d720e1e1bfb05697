"""Taking access back from a client or a person: their tokens stop working before they expire.

Withdrawing access (a client disabled or deleted, a person disabled) revokes their grants, so the
refresh tokens fail (RFC 6749 section 6), deletes their unused codes, and writes one entry in the
revocation set that voids every access token of theirs issued before a moment (their `iat`): the
resource server refuses them on the next call, in the same round trip as any revocation check.
That moment lies a token lifetime ahead, so it also covers a token the client_credentials grant
issues from a copy of the client read before the change (CLIENT_CACHE_SECONDS).
Restoring access moves the moment to now: tokens from before stay void, new ones work.
Narrowing a client's scopes takes back part of its access: the grants people gave it keep only the
scopes it still has, and its access tokens from before the change are voided as above.
"""

from __future__ import annotations

import math
import time
from datetime import datetime

from sqlalchemy import ColumnElement, delete, select, update

from authserver.models import AuthorizationCode, Grant
from authserver.oauth.refresh_tokens import REVOCATION_MARGIN_SECONDS
from shared import revocation, scopes
from shared import services as shared_services
from shared.app import current_settings
from shared.db import db, utcnow

# The client_credentials grant, the token endpoint's busiest path, reads a client from the database
# at most this often per process (oauth/client_lookup.py); the other grants and /authorize read it each time.
CLIENT_CACHE_SECONDS = 1.0
# Access restored sooner than this after it was withdrawn waits for it: a token issued in the second
# of the withdrawal, or from a copy of the client as old as CLIENT_CACHE_SECONDS, carries an `iat`
# before the moment restoring sets, and so stays void.
RESTORE_AFTER_SECONDS = math.ceil(CLIENT_CACHE_SECONDS) + 2


def withdraw(kind: str, identifier: str) -> None:
    """Void the refresh tokens and unused codes of a client (`revocation.CLIENT`, its client_id) or
    a person (`revocation.PERSON`, the user id); the caller commits, then calls `void_access_tokens`."""
    db.session.execute(update(Grant).where(_owned(Grant, kind, identifier), Grant.revoked_at.is_(None)).values(revoked_at=utcnow()))
    db.session.execute(delete(AuthorizationCode).where(_owned(AuthorizationCode, kind, identifier), AuthorizationCode.used_at.is_(None)))


def void_access_tokens(kind: str, identifier: str, withdrawn_at: datetime) -> None:
    """The revocation-set entry voiding the access tokens of a client or person withdrawn at
    `withdrawn_at`. The same entry however often it is written, so a command that could not write
    it (Redis unreachable: redis.RedisError) can simply be run again."""
    span = _token_span_seconds()
    moment = revocation.epoch(withdrawn_at)
    shared_services.of().revocations.void_issued_before(kind, identifier, moment + span, moment + 2 * span)


def restore(kind: str, identifier: str, withdrawn_at: datetime) -> None:
    """From now on new tokens of the client or person work; those issued before stay void."""
    wait = revocation.epoch(withdrawn_at) + RESTORE_AFTER_SECONDS - time.time()
    if wait > 0:
        time.sleep(wait)
    now = int(time.time())
    shared_services.of().revocations.void_issued_before(kind, identifier, now, now + _token_span_seconds())


def narrow(client_id: str, allowed: list[str]) -> None:
    """A client's scopes or redirect URIs changed: the grants people gave it keep only the `allowed`
    scopes (one left with none ends), and its unused codes, issued under the old ones, are deleted.
    The caller voids its access tokens (`void_before_change`) and commits."""
    live = db.session.scalars(select(Grant).where(Grant.client_id == client_id, Grant.revoked_at.is_(None)))
    for grant in live:
        kept = [s for s in scopes.parse(grant.scope) if s in allowed]
        grant.scope = " ".join(kept)
        if not kept:
            grant.revoked_at = utcnow()
    db.session.execute(delete(AuthorizationCode).where(AuthorizationCode.client_id == client_id, AuthorizationCode.used_at.is_(None)))


def void_before_change(client_id: str) -> None:
    """Void a client's access tokens issued before a change that narrows what it may do, and those
    issued in the RESTORE_AFTER_SECONDS after it: a token endpoint's copy of the client read before
    the change (CLIENT_CACHE_SECONDS) issues tokens as it was. A client that gets one of those few
    is refused at the resource server (401) and asks again. Written before the change is committed,
    so that without Redis (redis.RedisError) nothing changes."""
    moment = int(time.time()) + RESTORE_AFTER_SECONDS
    shared_services.of().revocations.void_issued_before(revocation.CLIENT, client_id, moment, moment + _token_span_seconds())


def _owned(model: type[Grant] | type[AuthorizationCode], kind: str, identifier: str) -> ColumnElement[bool]:
    return model.client_id == identifier if kind == revocation.CLIENT else model.user_id == int(identifier)


def _token_span_seconds() -> int:
    """How long an access token can stay valid after it was issued."""
    return current_settings().access_token_ttl_seconds + REVOCATION_MARGIN_SECONDS
