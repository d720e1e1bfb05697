"""Per-client rate limits over a sliding one-minute window: exactly N calls in any 60 seconds.

With Redis, one Lua script per call decides atomically, so concurrent workers and instances never
let more through than the limit. The script reads the client's limit where the command that changes
it writes it (shared/policy.py), so a lowered limit holds from the next call everywhere, and it first
looks up the caller's revocation entries: a tools/call costs one Redis round trip for all three.
The embedded default keeps the same window in process, with each client's limit read from the
database every few seconds. When Redis is unreachable the setting decides: fail-open (a local
window per process, logged) or fail-closed (503, logged).
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass

import redis

from mcp_resource.auth import REVOKED, Principal, revocation_entries
from mcp_resource.batching import PipelinedRedis
from mcp_resource.errors import InvalidToken, RateLimited
from mcp_resource.services import services
from shared import metrics, policy, revocation
from shared import redis as drawbridge_redis
from shared.policy import ClientPolicies
from shared.revocation import DatabaseRevocations, Revocations

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
FAIL_OPEN = "fail-open"
FAIL_CLOSED = "fail-closed"

# KEYS[1] the client's window, KEYS[2] its limit (shared/policy.py), KEYS[3..] the caller's revocation
# entries; ARGV: window in ms, the deployment's default limit, a unique member for this call, 1 to
# count the call (0: only the revocation check), the token's `iat` (an entry voids the tokens issued
# before the moment it holds, or all of them when it holds 1, as entries written before they carried
# a moment do: shared/revocation.voids), and the client's own limit as the database records it, or ''.
# The limit is read here, in the same step as the count, so a changed limit holds from the next call
# on every worker; a missing one (Redis restarted) answers UNKNOWN_LIMIT until a caller brings it.
# Redis's own clock is used, so instances with drifting clocks still share one window.
SLIDING_WINDOW = """
if #KEYS > 2 then
  local issued_at = tonumber(ARGV[5])
  for _, valid_from in ipairs(redis.call('MGET', unpack(KEYS, 3))) do
    if valid_from and (valid_from == '1' or issued_at < tonumber(valid_from)) then
      return {-1, 0, 0, 0}
    end
  end
end
if ARGV[4] == '0' then
  return {1, 0, 0, 0}
end
local own = redis.call('GET', KEYS[2])
if not own then
  if ARGV[6] == '' then
    return {-2, 0, 0, 0}
  end
  own = ARGV[6]
  redis.call('SET', KEYS[2], own)
end
local limit = tonumber(own)
if limit == 0 then
  limit = tonumber(ARGV[2])
end
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, limit - count - 1, 0, limit}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, 0, tonumber(oldest[2]) + window - now, limit}
"""
REVOKED_STATUS = -1
UNKNOWN_LIMIT = -2


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after_seconds: float
    revoked: bool = False


UNCOUNTED = Decision(True, 0, 0, 0.0)
REVOKED_DECISION = Decision(False, 0, 0, 0.0, revoked=True)


class LimiterUnavailable(Exception):
    """Redis is unreachable and the setting says fail-closed."""


class RateLimiter(ABC):
    @abstractmethod
    def admit(self, client_id: str, revocations: list[tuple[str, str]], issued_at: int, count: bool) -> Decision:
        """Refuse if any of the caller's revocation entries voids its token, issued at `issued_at`;
        else, when `count`, count one call if the client's window has room under its limit, and say
        when to retry if not."""


class RedisRateLimiter(RateLimiter):
    """The script by its SHA, in a pipeline shared with the Redis commands of concurrent requests."""

    def __init__(self, client: redis.Redis, policies: ClientPolicies, pipeline: PipelinedRedis | None = None) -> None:
        self.client = client
        self.policies = policies
        self.pipeline = pipeline or PipelinedRedis(client)
        self.sha = hashlib.sha1(SLIDING_WINDOW.encode()).hexdigest()  # noqa: S324 - Redis names scripts by SHA-1

    def admit(self, client_id: str, revocations: list[tuple[str, str]], issued_at: int, count: bool) -> Decision:
        keys = [drawbridge_redis.key("ratelimit", client_id), policy.limit_key(client_id)]
        keys += [revocation.redis_key(kind, identifier) for kind, identifier in revocations]
        status, remaining, retry_ms, limit = self._run(keys, issued_at, count, "")
        if status == UNKNOWN_LIMIT:  # the first call since Redis started: bring the record's limit
            own = self.policies.own_limit(client_id)
            status, remaining, retry_ms, limit = self._run(keys, issued_at, count, str(own or policy.DEFAULT_LIMIT))
        if status == REVOKED_STATUS:
            return REVOKED_DECISION
        return Decision(status == 1, int(limit), int(remaining), int(retry_ms) / 1000) if count else UNCOUNTED

    def _run(self, keys: list[str], issued_at: int, count: bool, own_limit: str) -> list[int]:
        window_ms = WINDOW_SECONDS * 1000
        default = self.policies.default_rate_limit_per_minute
        command = ("EVALSHA", self.sha, len(keys), *keys, window_ms, default, uuid.uuid4().hex, int(count), issued_at, own_limit)
        try:
            return self.pipeline.execute(*command)
        except redis.exceptions.NoScriptError:  # Redis restarted since: load the script again
            self.pipeline.execute("SCRIPT LOAD", SLIDING_WINDOW)  # with the other calls that need it
            return self.pipeline.execute(*command)


class LocalRateLimiter(RateLimiter):
    """The same window in this process, next to each client's limit as the database records it
    (read again every few seconds): the embedded default, and fail-open's fallback."""

    def __init__(self, revocations: Revocations, policies: ClientPolicies) -> None:
        self.revocations = revocations
        self.policies = policies
        self._calls: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def admit(self, client_id: str, revocations: list[tuple[str, str]], issued_at: int, count: bool) -> Decision:
        if self.revocations.any_revoked(revocations, issued_at):
            return REVOKED_DECISION
        return self.count(client_id) if count else UNCOUNTED

    def count(self, client_id: str) -> Decision:
        limit = self.policies.rate_limit_per_minute(client_id)
        now = time.monotonic()
        with self._lock:
            calls = self._calls.setdefault(client_id, deque())
            while calls and calls[0] <= now - WINDOW_SECONDS:
                calls.popleft()
            if len(calls) < limit:
                calls.append(now)
                return Decision(True, limit, limit - len(calls), 0.0)
            return Decision(False, limit, 0, calls[0] + WINDOW_SECONDS - now)


class ResilientRateLimiter(RateLimiter):
    """Redis first; when it fails, the configured behaviour, and Redis again as soon as it answers."""

    def __init__(self, primary: RedisRateLimiter, on_failure: str) -> None:
        self.primary = primary
        self.on_failure = on_failure
        # Only its window is used: revocations are never checked without Redis (see `admit`).
        self.fallback = LocalRateLimiter(DatabaseRevocations(), primary.policies)
        self.failures = 0

    def admit(self, client_id: str, revocations: list[tuple[str, str]], issued_at: int, count: bool) -> Decision:
        try:
            return self.primary.admit(client_id, revocations, issued_at, count)
        except redis.RedisError:
            if revocations:
                raise  # the revocation set lives in Redis: no answer without it (503), whatever the setting
            self._failed()
            return self.fallback.count(client_id) if count else UNCOUNTED

    def _failed(self) -> None:
        """Logged and counted; fail-closed refuses (503), fail-open goes on with the local window."""
        self.failures += 1
        metrics.RATE_LIMIT_BACKEND_FAILURES.inc()
        logger.warning("ratelimit_redis_unavailable", extra={"behaviour": self.on_failure})
        if self.on_failure == FAIL_CLOSED:
            raise LimiterUnavailable("rate limits cannot be checked") from None


def for_client(client: redis.Redis | None, policies: ClientPolicies, on_failure: str, pipeline: PipelinedRedis | None = None) -> RateLimiter:
    if client is None:
        return LocalRateLimiter(DatabaseRevocations(), policies)
    return ResilientRateLimiter(RedisRateLimiter(client, policies, pipeline), on_failure)


def admit(principal: Principal, count: bool = True) -> Decision:
    """The caller's token is not revoked (else 401), and, when `count`, one tool call is counted
    against its client's limit (else 429 and when to retry)."""
    client_id = principal.client_id
    limiter: RateLimiter = services().ratelimit
    decision = limiter.admit(client_id, revocation_entries(principal), principal.issued_at, count)
    if decision.revoked:
        raise InvalidToken(REVOKED)
    if not decision.allowed:
        metrics.RATE_LIMITED.labels(client_id).inc()
        retry = max(1, math.ceil(decision.retry_after_seconds))
        raise RateLimited(
            f"Rate limit of {decision.limit} tool calls per minute reached; retry in {retry} seconds.",
            data={"limit": decision.limit, "windowSeconds": WINDOW_SECONDS, "retryAfterSeconds": retry},
            headers={"Retry-After": str(retry), **headers(decision)},
        )
    return decision


def headers(decision: Decision) -> dict[str, str]:
    """RateLimit header fields (IETF httpapi draft), on refusals and on answered calls alike."""
    reset = max(0, math.ceil(decision.retry_after_seconds))
    return {"RateLimit-Limit": str(decision.limit), "RateLimit-Remaining": str(decision.remaining), "RateLimit-Reset": str(reset)}
