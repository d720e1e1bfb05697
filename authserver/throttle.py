"""Fixed-window attempt counters (registrations per IP), in Redis or in process."""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod

import redis

from shared import redis as drawbridge_redis


class Counter(ABC):
    @abstractmethod
    def hit(self, key: str, window_seconds: int) -> int:
        """Count one attempt under `key`; return the attempts in the current window."""


class RedisCounter(Counter):
    """INCR and EXPIRE NX in one transaction: workers and instances share the count."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def hit(self, key: str, window_seconds: int) -> int:
        name = drawbridge_redis.key("throttle", key)
        pipe = self.client.pipeline(transaction=True)
        pipe.incr(name)
        pipe.expire(name, window_seconds, nx=True)
        return int(pipe.execute()[0])


class LocalCounter(Counter):
    """The embedded default's stand-in: one process, one dict."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, window_seconds: int) -> int:
        now = time.monotonic()
        with self._lock:
            ends, hits = self._windows.get(key, (0.0, 0))
            if now >= ends:
                ends, hits = now + window_seconds, 0
            self._windows[key] = (ends, hits + 1)
            return hits + 1


def for_client(client: redis.Redis | None) -> Counter:
    return RedisCounter(client) if client is not None else LocalCounter()
