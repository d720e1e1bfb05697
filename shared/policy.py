"""A client's rate limit as both services agree on it. The database is the record; with Redis, the
copy the MCP server's limiter reads lives in Redis, written by whatever changes the record, so a new
limit holds from the next call on every worker and instance. A missing copy (Redis restarted) is
filled from the record by the limiter itself."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future

import redis
from sqlalchemy import text

from shared import redis as drawbridge_redis
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
    this process: callers arriving during that read, or within READ_SHARED_SECONDS of its start, get its
    result (a burst from a client not yet known costs one query and one connection, not one per call;
    with Redis, the calls that learnt the limit was missing just before it was filled are that burst too)."""

    def __init__(self, default_rate_limit_per_minute: int) -> None:
        self.default_rate_limit_per_minute = default_rate_limit_per_minute
        self._lock = threading.Lock()  # gevent's under the worker: waiting yields to other greenlets
        self._reads: dict[str, tuple[float, Future[int | None]]] = {}
        self._cached: dict[str, tuple[float, int]] = {}

    def rate_limit_per_minute(self, client_id: str) -> int:
        """The limit the in-process limiter applies: the client's own, or the default; read again
        once CACHE_SECONDS old, and never a stale copy while that read is under way."""
        cached = self._cached.get(client_id)
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        limit = self.own_limit(client_id) or self.default_rate_limit_per_minute
        if len(self._cached) >= MAX_CACHED_CLIENTS:
            self._cached.clear()
        self._cached[client_id] = (time.monotonic(), limit)
        return limit

    def own_limit(self, client_id: str) -> int | None:
        """The client's own limit in the database (None: it has none, or is not a registered client)."""
        with self._lock:
            started, read = self._reads.get(client_id, (0.0, None))
            if read is None or (read.done() and time.monotonic() - started >= READ_SHARED_SECONDS):
                if len(self._reads) >= MAX_CACHED_CLIENTS:
                    self._reads.clear()
                read = Future()
                self._reads[client_id] = (time.monotonic(), read)
                leading = True
            else:
                leading = False
        if leading:
            try:
                read.set_result(_read_own_limit(client_id))
            except BaseException as error:
                read.set_exception(error)
                with self._lock:
                    self._reads.pop(client_id, None)  # a failed read is not shared beyond its waiters
        return read.result()


def _read_own_limit(client_id: str) -> int | None:
    # Its own connection, given back at once: the request session would hold one until the request
    # ends, while it waits for its audit row.
    with db.engine.connect() as connection:
        return connection.execute(
            text("SELECT rate_limit_per_minute FROM oauth_clients WHERE client_id = :client_id"), {"client_id": client_id}
        ).scalar()
