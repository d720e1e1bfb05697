"""Redis client from REDIS_URL, and the key names every service agrees on."""

from __future__ import annotations

import redis

KEY_PREFIX = "drawbridge"
SOCKET_TIMEOUT_SECONDS = 2.0


def connect(url: str | None) -> redis.Redis | None:
    """A client for REDIS_URL, or None on the embedded default (in-process stand-ins)."""
    if not url:
        return None
    return redis.Redis.from_url(
        url,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
        health_check_interval=30,
    )


def key(area: str, *parts: str) -> str:
    """`drawbridge:<area>:<id>...`, the one shape of every key we write."""
    return ":".join((KEY_PREFIX, area, *parts))
