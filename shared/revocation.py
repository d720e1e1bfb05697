"""The revocation set: what voids access tokens before they expire (RFC 7009 section 2's "revoked").

Each entry names a token, a grant, a client or a person, and voids its tokens issued before a
moment (their `iat`): a revoked token or grant, all of them; a client or person disabled or deleted,
those issued before then, so one enabled again gets new tokens and never the old ones back. The
authorization server writes it; the resource server reads it on every call. Redis when configured;
otherwise the shared database, which is what both processes of the embedded default have in common.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import redis
from sqlalchemy import Integer, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from shared import redis as drawbridge_redis
from shared.db import Model, db

# Redis entries written before entries carried a moment hold 1: they void every token of their key.
LEGACY_VOIDS_ALL = 1

TOKEN = "token"
GRANT = "grant"
CLIENT = "client"
PERSON = "person"


class RevokedEntry(Model):
    """Tokens of one key issued before `valid_from` are void; kept until the last of them has expired."""

    __tablename__ = "revocations"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)  # "client:" and a client_id
    expires_at: Mapped[int] = mapped_column(Integer, index=True)
    valid_from: Mapped[int] = mapped_column(Integer)


class Revocations(ABC):
    def revoke(self, kind: str, identifier: str, until_epoch: int) -> None:
        """Void every token of `kind:identifier` until `until_epoch` (when its last token expires)."""
        self.void_issued_before(kind, identifier, until_epoch, until_epoch)

    @abstractmethod
    def void_issued_before(self, kind: str, identifier: str, valid_from_epoch: int, until_epoch: int) -> None:
        """Void the tokens of `kind:identifier` issued before `valid_from_epoch`, replacing what was
        said of it before; the entry is kept until `until_epoch`."""

    @abstractmethod
    def any_revoked(self, entries: list[tuple[str, str]], issued_at: int) -> bool:
        """True if any (kind, identifier) voids a token issued at `issued_at`: one round trip for all."""


class RedisRevocations(Revocations):
    """`execute` sends a read (the resource server's shares a pipeline with concurrent requests)."""

    def __init__(self, client: redis.Redis, execute: Callable[..., Any] | None = None) -> None:
        self.client = client
        self.execute = execute or client.execute_command

    def void_issued_before(self, kind: str, identifier: str, valid_from_epoch: int, until_epoch: int) -> None:
        if until_epoch > time.time():  # otherwise every token it covers has expired already
            self.client.set(redis_key(kind, identifier), valid_from_epoch, exat=until_epoch)

    def any_revoked(self, entries: list[tuple[str, str]], issued_at: int) -> bool:
        values = self.execute("MGET", *(redis_key(k, i) for k, i in entries))
        return any(value is not None and voids(int(value), issued_at) for value in values)


class DatabaseRevocations(Revocations):
    def void_issued_before(self, kind: str, identifier: str, valid_from_epoch: int, until_epoch: int) -> None:
        key = f"{kind}:{identifier}"
        db.session.execute(delete(RevokedEntry).where(RevokedEntry.key == key))
        db.session.execute(delete(RevokedEntry).where(RevokedEntry.expires_at < int(time.time())))
        db.session.add(RevokedEntry(key=key, expires_at=until_epoch, valid_from=valid_from_epoch))
        db.session.commit()

    def any_revoked(self, entries: list[tuple[str, str]], issued_at: int) -> bool:
        keys = [f"{k}:{i}" for k, i in entries]
        query = select(RevokedEntry.key).where(
            RevokedEntry.key.in_(keys), RevokedEntry.expires_at >= int(time.time()), RevokedEntry.valid_from > issued_at
        )
        return db.session.scalar(query.limit(1)) is not None


def entries_of(token_id: str, client_id: str, subject: str, grant_id: str | None) -> list[tuple[str, str]]:
    """The entries that could void an access token: its own id (`jti`), its client, and, for a
    person's token (one with a grant), the grant and the person (`sub`, RFC 9068 section 2.2). The
    resource server checks these on every call, and introspection the same ones."""
    entries = [(TOKEN, token_id), (CLIENT, client_id)]
    if grant_id:
        entries += [(GRANT, grant_id), (PERSON, subject)]
    return entries


def voids(valid_from: int, issued_at: int) -> bool:
    """Whether an entry holding `valid_from` voids a token issued at `issued_at`."""
    return valid_from == LEGACY_VOIDS_ALL or issued_at < valid_from


def redis_key(kind: str, identifier: str) -> str:
    return drawbridge_redis.key("revoked", kind, identifier)


def for_client(client: redis.Redis | None, execute: Callable[..., Any] | None = None) -> Revocations:
    return RedisRevocations(client, execute) if client is not None else DatabaseRevocations()


def epoch(moment: datetime) -> int:
    return int(moment.astimezone(timezone.utc).timestamp())
