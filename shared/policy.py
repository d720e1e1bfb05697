"""A client's policy as the resource server applies it: read from the database both services
share, cached a few seconds, so an operator's change takes effect within seconds, no restart."""

from __future__ import annotations

import threading
import time

from sqlalchemy import text

from shared.db import db

CACHE_SECONDS = 5.0


class ClientPolicies:
    def __init__(self, default_rate_limit_per_minute: int) -> None:
        self.default_rate_limit_per_minute = default_rate_limit_per_minute
        self._cache: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def rate_limit_per_minute(self, client_id: str) -> int:
        """The client's own limit, or the default when it has none (or is not a registered client)."""
        cached = self._cache.get(client_id)
        if cached is not None:
            read_at, limit = cached
            if time.monotonic() - read_at < CACHE_SECONDS:
                return limit
            # One request reads a stale limit again; those arriving meanwhile keep the old one
            # instead of all querying at once (at 64 in flight, a stall of 100s of ms).
            self._cache[client_id] = (time.monotonic(), limit)
        # Its own connection, given back at once: the request session would hold one until the
        # request ends, while it waits for its audit row.
        with db.engine.connect() as connection:
            own = connection.execute(
                text("SELECT rate_limit_per_minute FROM oauth_clients WHERE client_id = :client_id"), {"client_id": client_id}
            ).scalar()
        limit = own or self.default_rate_limit_per_minute
        with self._lock:
            self._cache[client_id] = (time.monotonic(), limit)
        return limit
