"""Open streams per caller: each long-lived SSE response holds one of DRAWBRIDGE_MAX_STREAMS_PER_CLIENT
slots, counted across workers and instances in Redis (in process on the embedded default).

A slot is a lease the open stream renews at each keep-alive interval and gives back when it closes;
a worker killed with streams open stops renewing, so its slots lapse after a few intervals instead of
leaking for ever. A caller is a token's client and subject: a client many people use (one client id
for a whole company) gets a cap per person, as the sessions are bound.

A stream only marks its lease due as it sends; one loop per worker renews every lease marked since
its last turn, and the sessions those streams keep alive, together: two round trips per keep-alive
interval for all of a worker's streams, where one per stream (twice for a session's) kept 10,000
Redis-backed streams from opening.
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
import time
from abc import ABC, abstractmethod

import redis
from flask import current_app

from mcp_resource.auth import Principal
from mcp_resource.batching import PipelinedRedis
from mcp_resource.errors import RateLimited
from mcp_resource.services import services
from mcp_resource.transport.legacy.sessions import SessionStore
from shared import redis as drawbridge_redis
from shared.background import BackgroundLoop

logger = logging.getLogger(__name__)

# A lease outlasts four keep-alive intervals, so one late renewal (a slow write) does not lose it.
LEASE_KEEPALIVES = 4
# Slots one renewal script takes at most: Redis runs nothing else while it runs.
RENEW_SLOTS_PER_SCRIPT = 1000

# KEYS[1] the caller's slots: a sorted set of slot ids scored by the end of their lease (ms, on
# Redis's own clock, which every instance shares). ARGV: the slot, its lease in ms, and the cap.
# Lapsed leases are dropped first.
TAKE = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""

# KEYS[1] as above. ARGV: the lease in ms, then the slots to renew.
RENEW = """
local t = redis.call('TIME')
local ends = t[1] * 1000 + math.floor(t[2] / 1000) + tonumber(ARGV[1])
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], ends, ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
"""


class StreamSlots(ABC):
    """Leased slots per caller."""

    @abstractmethod
    def take(self, caller: str, slot: str, lease_seconds: float, cap: int) -> bool:
        """Take `slot` for `lease_seconds` if the caller holds fewer than `cap`."""

    @abstractmethod
    def renew(self, slots_by_caller: dict[str, list[str]], lease_seconds: float) -> None:
        """Lease each slot again for `lease_seconds`, all at once."""

    @abstractmethod
    def release(self, caller: str, slot: str) -> None: ...


class RedisStreamSlots(StreamSlots):
    """Taking and releasing share the pipeline of concurrent requests; renewals go out in one."""

    def __init__(self, client: redis.Redis, pipeline: PipelinedRedis) -> None:
        self.client = client
        self.pipeline = pipeline
        self.take_script = client.register_script(TAKE)
        self.renew_script = client.register_script(RENEW)

    def take(self, caller: str, slot: str, lease_seconds: float, cap: int) -> bool:
        return self.pipeline.run_script(self.take_script, [self._key(caller)], [slot, int(lease_seconds * 1000), cap]) == 1

    def renew(self, slots_by_caller: dict[str, list[str]], lease_seconds: float) -> None:
        pipeline = self.client.pipeline(transaction=False)
        for caller, slots in slots_by_caller.items():
            for first in range(0, len(slots), RENEW_SLOTS_PER_SCRIPT):
                chunk = slots[first : first + RENEW_SLOTS_PER_SCRIPT]
                pipeline.execute_command("EVALSHA", self.renew_script.sha, 1, self._key(caller), int(lease_seconds * 1000), *chunk)
        try:
            pipeline.execute()
        except redis.exceptions.NoScriptError:  # Redis restarted since: renewing twice is harmless
            self.client.script_load(RENEW)
            pipeline.execute()

    def release(self, caller: str, slot: str) -> None:
        self.pipeline.execute("ZREM", self._key(caller), slot)

    @staticmethod
    def _key(caller: str) -> str:
        return drawbridge_redis.key("streams", caller)


class LocalStreamSlots(StreamSlots):
    def __init__(self) -> None:
        self._leases: dict[str, dict[str, float]] = {}
        self._lock = threading.Lock()

    def take(self, caller: str, slot: str, lease_seconds: float, cap: int) -> bool:
        now = time.monotonic()
        with self._lock:
            held = self._leases.setdefault(caller, {})
            # Lapsed leases are dropped only at the cap: O(1) per slot however many streams a
            # caller holds (a copy per call made 10,000 streams of one caller quadratic).
            if len(held) >= cap:
                for lapsed in [s for s, end in held.items() if end <= now]:
                    del held[lapsed]
                if len(held) >= cap:
                    return False
            held[slot] = now + lease_seconds
            return True

    def renew(self, slots_by_caller: dict[str, list[str]], lease_seconds: float) -> None:
        ends = time.monotonic() + lease_seconds
        with self._lock:
            for caller, slots in slots_by_caller.items():
                held = self._leases.setdefault(caller, {})
                held.update(dict.fromkeys(slots, ends))

    def release(self, caller: str, slot: str) -> None:
        with self._lock:
            held = self._leases.get(caller, {})
            held.pop(slot, None)
            if not held:
                self._leases.pop(caller, None)


def for_client(client: redis.Redis | None, pipeline: PipelinedRedis | None) -> StreamSlots:
    return RedisStreamSlots(client, pipeline) if client is not None and pipeline is not None else LocalStreamSlots()


class Lease:
    """One stream's slot, and the session it keeps alive (if any): marked due by `renew_if_due`
    (called as the stream sends), ended by `release`."""

    def __init__(self, streams: OpenStreams, caller: str) -> None:
        self.streams = streams
        self.caller = caller
        self.slot = secrets.token_urlsafe(12)
        self.session: tuple[str, int] | None = None  # its id, and how long it lives unrenewed
        self.marked_at = time.monotonic()

    @property
    def lease_seconds(self) -> float:
        return self.streams.lease_seconds

    def keep_alive(self, session_id: str, idle_seconds: int) -> None:
        """Renew this session with the slot, for `idle_seconds` each time."""
        self.session = (session_id, idle_seconds)

    def renew_if_due(self) -> None:
        """Put this lease in the next renewal (no round trip here), at each keep-alive: past half an
        interval, as gevent's timers may fire a little early, so a renewal is never an interval late."""
        now = time.monotonic()
        if now - self.marked_at >= self.streams.interval_seconds / 2:
            self.marked_at = now
            self.streams.due(self)

    def release(self) -> None:
        self.streams.release(self)


class OpenStreams:
    """This worker's open streams: their slots taken one by one, renewed together once an interval."""

    def __init__(self, slots: StreamSlots, sessions: SessionStore, interval_seconds: float) -> None:
        self.slots = slots
        self.sessions = sessions
        self.interval_seconds = interval_seconds
        self._due: dict[str, Lease] = {}
        self._renewing: set[str] = set()
        self._released_while_renewing: list[Lease] = []
        self._lock = threading.Lock()
        self._renewals = BackgroundLoop(self._loop, "stream-renewals")

    @property
    def lease_seconds(self) -> float:
        return LEASE_KEEPALIVES * self.interval_seconds

    def hold(self, caller: str, cap: int) -> Lease | None:
        """A lease on one more slot of `caller`, or None if it holds `cap` already."""
        lease = Lease(self, caller)
        return lease if self.slots.take(caller, lease.slot, self.lease_seconds, cap) else None

    def due(self, lease: Lease) -> None:
        self._renewals.start()  # in the process that opened the stream, on its first keep-alive
        with self._lock:
            self._due[lease.slot] = lease

    def release(self, lease: Lease) -> None:
        with self._lock:
            self._due.pop(lease.slot, None)
            if lease.slot in self._renewing:  # the renewal under way may lease it again: release it after
                self._released_while_renewing.append(lease)
        self._release(lease)

    def _release(self, lease: Lease) -> None:
        try:
            self.slots.release(lease.caller, lease.slot)
        except redis.RedisError:
            logger.warning("stream_lease_not_released", exc_info=True)  # it lapses on its own

    def stop(self) -> None:
        """Stop renewing; the leases still held lapse on their own."""
        self._renewals.stop()

    def _loop(self) -> None:
        while self._renewals.pause(self.interval_seconds):
            with self._lock:
                leases, self._due = list(self._due.values()), {}
                self._renewing = {lease.slot for lease in leases}
            try:
                self._renew(leases)
            except Exception:  # the streams go on; at worst their slots lapse and the caller may open more
                logger.warning("stream_leases_not_renewed", extra={"leases": len(leases)}, exc_info=True)
            with self._lock:
                released, self._released_while_renewing, self._renewing = self._released_while_renewing, [], set()
            for lease in released:
                self._release(lease)

    def _renew(self, leases: list[Lease]) -> None:
        slots_by_caller: dict[str, list[str]] = {}
        for lease in leases:
            slots_by_caller.setdefault(lease.caller, []).append(lease.slot)
        if slots_by_caller:
            self.slots.renew(slots_by_caller, self.lease_seconds)
        sessions = dict(lease.session for lease in leases if lease.session is not None)
        if sessions:
            self.sessions.touch(sessions)


def hold(principal: Principal) -> Lease:
    """A slot for one more open stream of this caller, or 429 (RateLimited) if all are in use."""
    streams: OpenStreams = services().streams
    cap = current_app.config["SETTINGS"].max_streams_per_client
    lease = streams.hold(caller_of(principal), cap)
    if lease is None:
        retry = math.ceil(streams.lease_seconds)
        raise RateLimited(
            f"Too many open streams for this client ({cap}); close one, or retry in {retry} seconds.",
            data={"limit": cap, "retryAfterSeconds": retry},
            headers={"Retry-After": str(retry)},
        )
    return lease


def caller_of(principal: Principal) -> str:
    return f"{principal.client_id}:{principal.subject}"
