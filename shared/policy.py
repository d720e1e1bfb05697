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
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
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
