"""The revocation set: token ids and grant ids whose access tokens must fail before they expire.

The authorization server writes it (a replayed code or refresh token, a revoked grant); the
resource server reads it on every call. Redis when configured; otherwise the shared database, which
is what both processes of the embedded default have in common.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from datetime import datetime, timezone

import redis
from sqlalchemy import Integer, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from shared import redis as drawbridge_redis
from shared.db import db

TOKEN = "token"
GRANT = "grant"


class RevokedEntry(db.Model):
    """One revoked token or grant, kept until every token it covers has expired."""

    __tablename__ = "revocations"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    expires_at: Mapped[int] = mapped_column(Integer, index=True)


class Revocations(ABC):
    @abstractmethod
    def revoke(self, kind: str, identifier: str, until_epoch: int) -> None:
        """Mark `kind:identifier` revoked until `until_epoch` (when its last token expires)."""

    @abstractmethod
    def any_revoked(self, entries: list[tuple[str, str]]) -> bool:
        """True if any (kind, identifier) is revoked: one round trip for all of them."""


class RedisRevocations(Revocations):
    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def revoke(self, kind: str, identifier: str, until_epoch: int) -> None:
        if until_epoch > time.time():  # otherwise every token it covers has expired already
            self.client.set(redis_key(kind, identifier), 1, exat=until_epoch)

    def any_revoked(self, entries: list[tuple[str, str]]) -> bool:
        return bool(self.client.exists(*(redis_key(k, i) for k, i in entries)))


class DatabaseRevocations(Revocations):
    def revoke(self, kind: str, identifier: str, until_epoch: int) -> None:
        key = f"{kind}:{identifier}"
        db.session.execute(delete(RevokedEntry).where(RevokedEntry.key == key))
        db.session.execute(delete(RevokedEntry).where(RevokedEntry.expires_at < int(time.time())))
        db.session.add(RevokedEntry(key=key, expires_at=until_epoch))
        db.session.commit()

    def any_revoked(self, entries: list[tuple[str, str]]) -> bool:
        keys = [f"{k}:{i}" for k, i in entries]
        query = select(RevokedEntry.key).where(RevokedEntry.key.in_(keys), RevokedEntry.expires_at >= int(time.time()))
        return db.session.scalar(query.limit(1)) is not None


def redis_key(kind: str, identifier: str) -> str:
    return drawbridge_redis.key("revoked", kind, identifier)


def for_client(client: redis.Redis | None) -> Revocations:
    return RedisRevocations(client) if client is not None else DatabaseRevocations()


def epoch(moment: datetime) -> int:
    return int(moment.astimezone(timezone.utc).timestamp())
