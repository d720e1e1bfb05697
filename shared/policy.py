"""A client's rate limits as both services agree on them. The database is the record; with Redis, the
copy the MCP server's limiter reads lives in Redis, written by whatever changes the record, so new
limits hold from the next call on every worker and instance. A missing copy (Redis restarted) is
filled from the record by the limiter itself.

Three limits, each tool calls per sliding minute, each with a default from the settings that a
client may override: per client; per person, across all the clients they use (tokens that act for
a person only); and per tool, counted per caller (the person, or the client acting for itself).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import redis
from sqlalchemy import JSON, Integer, text

from shared import redis as drawbridge_redis
from shared.cache import RefreshingCache
from shared.db import db

if TYPE_CHECKING:
    from shared.settings import Settings

# The in-process limiter (embedded default, fail-open fallback) reads each client's limits again
# once they are this old: the only way a change made by another process reaches it without Redis.
CACHE_SECONDS = 5.0
MAX_CACHED_CLIENTS = 10_000
READ_SHARED_SECONDS = 1.0
LIMITS_QUERY = text(
    "SELECT rate_limit_per_minute, person_rate_limit_per_minute, tool_rate_limits FROM oauth_clients WHERE client_id = :client_id"
).columns(rate_limit_per_minute=Integer, person_rate_limit_per_minute=Integer, tool_rate_limits=JSON)
# Stored for a limit a client does not override: each MCP server applies its configured default.
DEFAULT_LIMIT = 0
# The Redis copy's fields: the client and person limits always (DEFAULT_LIMIT when not overridden),
# TOOL_FIELD_PREFIX + name for each tool the client has a limit of its own for.
CLIENT_FIELD = "client"
PERSON_FIELD = "person"
TOOL_FIELD_PREFIX = "tool:"


@dataclass(frozen=True)
class Defaults:
    """The deployment's limits in tool calls per minute (settings): per client, per person, and per
    caller and tool for every tool and for tools that are not read-only (0: none)."""

    client: int
    person: int
    tool: int = 0
    mutation: int = 0

    @classmethod
    def of(cls, settings: Settings) -> Defaults:
        return cls(
            settings.rate_limit_per_minute,
            settings.person_rate_limit_per_minute,
            settings.tool_rate_limit_per_minute,
            settings.mutation_rate_limit_per_minute,
        )

    def for_tool(self, read_only: bool, declared: int | None) -> int:
        """A tool's default: the tightest of the settings' (the mutation one too for a tool not
        annotated read-only) and the tool's own declaration, which can only tighten it; 0: none."""
        candidates = [self.tool, 0 if read_only else self.mutation, declared or 0]
        return min((limit for limit in candidates if limit > 0), default=0)


@dataclass(frozen=True)
class ClientLimits:
    """The limits a client overrides, as the database records them (None: the default)."""

    client: int | None = None
    person: int | None = None
    tools: Mapping[str, int] = field(default_factory=dict)

    def redis_fields(self) -> dict[str, int]:
        """The Redis copy: both limits always, so a copy that lacks them is one that is missing."""
        fields = {CLIENT_FIELD: self.client or DEFAULT_LIMIT, PERSON_FIELD: self.person or DEFAULT_LIMIT}
        fields.update({TOOL_FIELD_PREFIX + name: limit for name, limit in self.tools.items()})
        return fields


def limits_key(client_id: str) -> str:
    return drawbridge_redis.key("client-limits", client_id)


def publish_limits(client: redis.Redis | None, client_id: str, limits: ClientLimits) -> None:
    """Write a client's limits where every limiter reads them, replacing the old ones in one step
    (a limiter never sees half of a change). Raises redis.RedisError when Redis is configured but
    unreachable: the caller then keeps its database change uncommitted, so record and copy never
    disagree."""
    if client is not None:
        with client.pipeline(transaction=True) as pipe:
            pipe.delete(limits_key(client_id))
            pipe.hset(limits_key(client_id), mapping=limits.redis_fields())  # type: ignore[arg-type]  # redis-py's mapping type is invariant
            pipe.execute()


def forget_limits(client: redis.Redis | None, client_id: str) -> None:
    """A deleted client's copy goes with it."""
    if client is not None:
        client.delete(limits_key(client_id))


class ClientPolicies:
    """The deployment's defaults, and each client's own limits as the database records them, read
    by one caller per client at a time in this process (shared/cache.py): a burst from a client not
    yet known costs one query and one connection, not one per call."""

    def __init__(self, defaults: Defaults) -> None:
        self.defaults = defaults
        # With Redis, to fill its missing copy: never a stale value (it would stay there), but
        # calls that learnt the copy was missing just before it was filled share a read made within
        # READ_SHARED_SECONDS.
        self._records = RefreshingCache(_read_limits, READ_SHARED_SECONDS, MAX_CACHED_CLIENTS, serve_stale=False)
        # Without Redis: while one call reads stale limits again, the others keep the old ones (the
        # guarantee that a lowered limit holds from the next call is Redis's, where the limits live).
        self._limits = RefreshingCache(_read_limits, CACHE_SECONDS, MAX_CACHED_CLIENTS)

    def cached(self, client_id: str) -> ClientLimits:
        """What the in-process limiter applies; read again once CACHE_SECONDS old."""
        return self._limits.get(client_id) or ClientLimits()

    def record(self, client_id: str) -> ClientLimits:
        """The client's own limits in the database (none for a client that is not registered)."""
        return self._records.get(client_id) or ClientLimits()


def _read_limits(client_id: str) -> ClientLimits:
    """ClientLimits() for a client without limits of its own, so that answer is kept too."""
    # Its own connection, given back at once: the request session would hold one until the request
    # ends, while it waits for its audit row.
    with db.engine.connect() as connection:
        row = connection.execute(LIMITS_QUERY, {"client_id": client_id}).first()
    if row is None:
        return ClientLimits()
    client, person, tools = row
    return ClientLimits(client, person, {str(name): int(limit) for name, limit in (tools or {}).items()})
