"""Per-client rate limits over a sliding one-minute window: exactly N calls in any 60 seconds.

With Redis, one Lua script per call decides atomically, so concurrent workers and instances never
let more through than the limit. The embedded default keeps the same window in process. When
Redis is unreachable the setting decides: fail-open (a local window per process, logged) or
fail-closed (503, logged).
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass

import redis
from flask import current_app

from mcp_resource.errors import RateLimited
from shared import metrics
from shared import redis as drawbridge_redis

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
FAIL_OPEN = "fail-open"
FAIL_CLOSED = "fail-closed"

# KEYS[1] the client's window; ARGV: window in ms, limit, a unique member for this call.
# Redis's own clock is used, so instances with drifting clocks still share one window.
SLIDING_WINDOW = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, limit - count - 1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, 0, tonumber(oldest[2]) + window - now}
"""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after_seconds: float


class LimiterUnavailable(Exception):
    """Redis is unreachable and the setting says fail-closed."""


class RateLimiter(ABC):
    @abstractmethod
    def hit(self, client_id: str, limit_per_minute: int) -> Decision:
        """Count one call for the client if the window has room; say when to retry if not."""


class RedisRateLimiter(RateLimiter):
    def __init__(self, client: redis.Redis) -> None:
        self.script = client.register_script(SLIDING_WINDOW)

    def hit(self, client_id: str, limit_per_minute: int) -> Decision:
        key = drawbridge_redis.key("ratelimit", client_id)
        allowed, remaining, retry_ms = self.script(keys=[key], args=[WINDOW_SECONDS * 1000, limit_per_minute, uuid.uuid4().hex])
        return Decision(bool(allowed), limit_per_minute, int(remaining), int(retry_ms) / 1000)


class LocalRateLimiter(RateLimiter):
    """The same window in this process: the embedded default, and fail-open's fallback."""

    def __init__(self) -> None:
        self._calls: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, client_id: str, limit_per_minute: int) -> Decision:
        now = time.monotonic()
        with self._lock:
            calls = self._calls.setdefault(client_id, deque())
            while calls and calls[0] <= now - WINDOW_SECONDS:
                calls.popleft()
            if len(calls) < limit_per_minute:
                calls.append(now)
                return Decision(True, limit_per_minute, limit_per_minute - len(calls), 0.0)
            return Decision(False, limit_per_minute, 0, calls[0] + WINDOW_SECONDS - now)


class ResilientRateLimiter(RateLimiter):
    """Redis first; when it fails, the configured behaviour, and Redis again as soon as it answers."""

    def __init__(self, primary: RedisRateLimiter, on_failure: str) -> None:
        self.primary = primary
        self.on_failure = on_failure
        self.fallback = LocalRateLimiter()
        self.failures = 0

    def hit(self, client_id: str, limit_per_minute: int) -> Decision:
        try:
            return self.primary.hit(client_id, limit_per_minute)
        except redis.RedisError:
            self.failures += 1
            metrics.RATE_LIMIT_BACKEND_FAILURES.inc()
            logger.warning("ratelimit_redis_unavailable", extra={"behaviour": self.on_failure})
            if self.on_failure == FAIL_CLOSED:
                raise LimiterUnavailable("rate limits cannot be checked") from None
            return self.fallback.hit(client_id, limit_per_minute)


def for_client(client: redis.Redis | None, on_failure: str) -> RateLimiter:
    if client is None:
        return LocalRateLimiter()
    return ResilientRateLimiter(RedisRateLimiter(client), on_failure)


def admit(client_id: str) -> Decision:
    """Count one tool call against the client's limit, or refuse it with 429 and when to retry."""
    limiter: RateLimiter = current_app.extensions["drawbridge.ratelimit"]
    limit = current_app.extensions["drawbridge.policies"].rate_limit_per_minute(client_id)
    decision = limiter.hit(client_id, limit)
    if not decision.allowed:
        metrics.RATE_LIMITED.labels(client_id).inc()
        retry = max(1, math.ceil(decision.retry_after_seconds))
        raise RateLimited(
            f"Rate limit of {limit} tool calls per minute reached; retry in {retry} seconds.",
            data={"limit": limit, "windowSeconds": WINDOW_SECONDS, "retryAfterSeconds": retry},
            headers={"Retry-After": str(retry), **headers(decision)},
        )
    return decision


def headers(decision: Decision) -> dict[str, str]:
    """RateLimit header fields (IETF httpapi draft), on refusals and on answered calls alike."""
    reset = max(0, math.ceil(decision.retry_after_seconds))
    return {"RateLimit-Limit": str(decision.limit), "RateLimit-Remaining": str(decision.remaining), "RateLimit-Reset": str(reset)}
