"""Open streams per caller: each long-lived SSE response holds one of DRAWBRIDGE_MAX_STREAMS_PER_CLIENT
slots, counted across workers and instances in Redis (in process on the embedded default).

A slot is a lease the open stream renews at each keep-alive interval and gives back when it closes;
a worker killed with streams open stops renewing, so its slots lapse after a few intervals instead of
leaking for ever. A caller is a token's client and subject: a client many people use (one client id
for a whole company) gets a cap per person, as the sessions are bound.
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable

import redis
from flask import current_app

from mcp_resource.auth import Principal
from mcp_resource.errors import RateLimited
from shared import redis as drawbridge_redis

logger = logging.getLogger(__name__)

# A lease outlasts four keep-alive intervals, so one late renewal (a slow write) does not lose it.
LEASE_KEEPALIVES = 4

# KEYS[1] the caller's slots: a sorted set of slot ids scored by the end of their lease (ms, on
# Redis's own clock, which every instance shares). ARGV: the slot, its lease in ms, and the cap
# (0: renew an existing slot without checking the cap). Lapsed leases are dropped first.
LEASE = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local cap = tonumber(ARGV[3])
if cap > 0 and redis.call('ZCARD', KEYS[1]) >= cap then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""


class StreamSlots(ABC):
    """Leased slots per caller."""

    @abstractmethod
    def lease(self, caller: str, slot: str, lease_seconds: float, cap: int) -> bool:
        """Take or renew `slot` for `lease_seconds`; with a cap (> 0), only if fewer are held."""

    @abstractmethod
    def release(self, caller: str, slot: str) -> None: ...


class RedisStreamSlots(StreamSlots):
    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.script = client.register_script(LEASE)

    def lease(self, caller: str, slot: str, lease_seconds: float, cap: int) -> bool:
        return self.script(keys=[self._key(caller)], args=[slot, int(lease_seconds * 1000), cap]) == 1

    def release(self, caller: str, slot: str) -> None:
        self.client.zrem(self._key(caller), slot)

    @staticmethod
    def _key(caller: str) -> str:
        return drawbridge_redis.key("streams", caller)


class LocalStreamSlots(StreamSlots):
    def __init__(self) -> None:
        self._leases: dict[str, dict[str, float]] = {}
        self._lock = threading.Lock()

    def lease(self, caller: str, slot: str, lease_seconds: float, cap: int) -> bool:
        now = time.monotonic()
        with self._lock:
            held = self._leases.setdefault(caller, {})
            # Lapsed leases are dropped only at the cap: O(1) per renewal however many streams a
            # caller holds (a copy per call made 10,000 streams of one caller quadratic).
            if cap > 0 and len(held) >= cap:
                for lapsed in [s for s, end in held.items() if end <= now]:
                    del held[lapsed]
                if len(held) >= cap:
                    return False
            held[slot] = now + lease_seconds
            return True

    def release(self, caller: str, slot: str) -> None:
        with self._lock:
            held = self._leases.get(caller, {})
            held.pop(slot, None)
            if not held:
                self._leases.pop(caller, None)


def for_client(client: redis.Redis | None) -> StreamSlots:
    return RedisStreamSlots(client) if client is not None else LocalStreamSlots()


class Lease:
    """One stream's slot: renewed by `renew_if_due` (called as the stream sends), ended by `release`.
    `on_renew` runs at each renewal too (an /sse stream keeps its session alive that way)."""

    def __init__(self, slots: StreamSlots, caller: str, interval_seconds: float, on_renew: Callable[[], None] | None = None) -> None:
        self.slots = slots
        self.caller = caller
        self.slot = secrets.token_urlsafe(12)
        self.interval_seconds = interval_seconds
        self.on_renew = on_renew
        self.renewed_at = time.monotonic()

    @property
    def lease_seconds(self) -> float:
        return LEASE_KEEPALIVES * self.interval_seconds

    def renew_if_due(self) -> None:
        if time.monotonic() - self.renewed_at < self.interval_seconds:
            return
        self.renewed_at = time.monotonic()
        try:
            self.slots.lease(self.caller, self.slot, self.lease_seconds, cap=0)
            if self.on_renew is not None:
                self.on_renew()
        except redis.RedisError:
            # The stream goes on; at worst its slot lapses and the caller may open one more.
            logger.warning("stream_lease_not_renewed", exc_info=True)

    def release(self) -> None:
        try:
            self.slots.release(self.caller, self.slot)
        except redis.RedisError:
            logger.warning("stream_lease_not_released", exc_info=True)  # it lapses on its own


def hold(principal: Principal) -> Lease:
    """A slot for one more open stream of this caller, or 429 (RateLimited) if all are in use."""
    settings = current_app.config["SETTINGS"]
    cap = settings.max_streams_per_client
    lease = Lease(current_app.extensions["drawbridge.streams"], caller_of(principal), settings.sse_keepalive_seconds)
    if not lease.slots.lease(lease.caller, lease.slot, lease.lease_seconds, cap):
        retry = math.ceil(lease.lease_seconds)
        raise RateLimited(
            f"Too many open streams for this client ({cap}); close one, or retry in {retry} seconds.",
            data={"limit": cap, "retryAfterSeconds": retry},
            headers={"Retry-After": str(retry)},
        )
    return lease


def caller_of(principal: Principal) -> str:
    return f"{principal.client_id}:{principal.subject}"
