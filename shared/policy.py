"""A client's policy as the resource server applies it: read from the database both services
share, cached a few seconds, so an operator's change takes effect within seconds, no restart."""

from __future__ import annotations

from sqlalchemy import text

from shared.cache import RefreshingCache
from shared.db import db

CACHE_SECONDS = 5.0


class ClientPolicies:
    def __init__(self, default_rate_limit_per_minute: int) -> None:
        self.default_rate_limit_per_minute = default_rate_limit_per_minute
        self._limits: RefreshingCache[str, int] = RefreshingCache(self._read_limit, CACHE_SECONDS)

    def rate_limit_per_minute(self, client_id: str) -> int:
        """The client's own limit, or the default when it has none (or is not a registered client)."""
        return self._limits.get(client_id)  # type: ignore[return-value]  # _read_limit always finds one

    def _read_limit(self, client_id: str) -> int:
        # Its own connection, given back at once: the request session would hold one until the
        # request ends, while it waits for its audit row.
        with db.engine.connect() as connection:
            own = connection.execute(
                text("SELECT rate_limit_per_minute FROM oauth_clients WHERE client_id = :client_id"), {"client_id": client_id}
            ).scalar()
        return own or self.default_rate_limit_per_minute
