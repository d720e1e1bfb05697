"""A client's rate limit as both services agree on it. The database is the record; with Redis, the
copy the MCP server's limiter reads lives in Redis, written by whatever changes the record, so a new
limit holds from the next call on every worker and instance. A missing copy (Redis restarted) is
filled from the record by the limiter itself."""

from __future__ import annotations

import redis
from sqlalchemy import text

from shared import redis as drawbridge_redis
from shared.cache import RefreshingCache
from shared.db import db

# The in-process limiter (embedded default, fail-open fallback) reads each client's limit again
# once it is this old: the only way a change made by another process reaches it without Redis.
CACHE_SECONDS = 5.0
MAX_CACHED_CLIENTS = 10_000
READ_SHARED_SECONDS = 1.0
# Stored for a client without a limit of its own: each MCP server applies its configured default.
DEFAULT_LIMIT = 0


def limit_key(client_id: str) -> str:
    return drawbridge_redis.key("client-limit", client_id)


def publish_limit(client: redis.Redis | None, client_id: str, per_minute: int | None) -> None:
    """Write a client's limit (None: the deployment's default) where every limiter reads it. Raises
    redis.RedisError when Redis is configured but unreachable: the caller then keeps its database
    change uncommitted, so record and copy never disagree."""
    if client is not None:
        client.set(limit_key(client_id), per_minute or DEFAULT_LIMIT)


def forget_limit(client: redis.Redis | None, client_id: str) -> None:
    """A deleted client's copy goes with it."""
    if client is not None:
        client.delete(limit_key(client_id))


class ClientPolicies:
    """Each client's limit as the database records it, read by one caller per client at a time in
    this process (shared/cache.py): a burst from a client not yet known costs one query and one
    connection, not one per call."""

    def __init__(self, default_rate_limit_per_minute: int) -> None:
        self.default_rate_limit_per_minute = default_rate_limit_per_minute
        # With Redis, to fill its missing copy: never a stale value (it would stay there), but
        # calls that learnt the copy was missing just before it was filled share a read made within
        # READ_SHARED_SECONDS.
        self._records = RefreshingCache(_read_own_limit, READ_SHARED_SECONDS, MAX_CACHED_CLIENTS, serve_stale=False)
        # Without Redis: while one call reads a stale limit again, the others keep the old one (the
        # guarantee that a lowered limit holds from the next call is Redis's, where the limit lives).
        self._limits = RefreshingCache(_read_own_limit, CACHE_SECONDS, MAX_CACHED_CLIENTS)

    def rate_limit_per_minute(self, client_id: str) -> int:
        """The limit the in-process limiter applies: the client's own, or the default; read again
        once CACHE_SECONDS old."""
        return self._limits.get(client_id) or self.default_rate_limit_per_minute

    def own_limit(self, client_id: str) -> int | None:
        """The client's own limit in the database (None: it has none, or is not a registered client)."""
        return self._records.get(client_id) or None


def _read_own_limit(client_id: str) -> int:
    """DEFAULT_LIMIT for a client without a limit of its own, so that answer is kept too."""
    # Its own connection, given back at once: the request session would hold one until the request
    # ends, while it waits for its audit row.
    with db.engine.connect() as connection:
        own = connection.execute(
            text("SELECT rate_limit_per_minute FROM oauth_clients WHERE client_id = :client_id"), {"client_id": client_id}
        ).scalar()
    return own or DEFAULT_LIMIT
