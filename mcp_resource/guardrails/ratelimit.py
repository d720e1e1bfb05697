"""Rate limits over a sliding one-minute window: exactly N calls in any 60 seconds, per limit.

Three limits count every tool call (shared/policy.py has their defaults and a client's own): its
client's; its person's, across all the clients they use (tokens that act for a person only, so a
client registered again starts no new bucket); and its tool's, per caller (the person, or the client
acting for itself), tighter by default for tools not annotated read-only. A call is counted in all
of them or in none: one over any limit is refused and consumes nothing from the others. When several
are full, the refusal names the one with the longest wait, and Retry-After is that wait, when all of
them have room again.

With Redis, one Lua script per call decides atomically, so concurrent workers and instances never
let more through than a limit. The script reads the client's limits where the command that changes
them writes them (shared/policy.py), so a lowered limit holds from the next call everywhere, and it
first looks up the caller's revocation entries: a tools/call costs one Redis round trip for all of
it. The embedded default keeps the same windows in process, with each client's limits read from the
database every few seconds. When Redis is unreachable the setting decides: fail-open (local windows
per process, logged) or fail-closed (503, logged).
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import redis

from mcp_resource.auth import REVOKED, Principal, revocation_entries
from mcp_resource.batching import PipelinedRedis
from mcp_resource.errors import InvalidToken, RateLimited
from mcp_resource.guarded import Guarded
from mcp_resource.services import services
from shared import metrics, policy, revocation
from shared import redis as drawbridge_redis
from shared.policy import ClientPolicies
from shared.revocation import DatabaseRevocations, Revocations

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
FAIL_OPEN = "fail-open"
FAIL_CLOSED = "fail-closed"
# The limits, as refusals, audit rows and metrics name them; the script's windows are in this order.
CLIENT, TOOL, PERSON = "client", "tool", "person"
LIMITS = (CLIENT, TOOL, PERSON)

# The script that decides a call in one round trip (its KEYS, ARGV and reply are described in it).
SLIDING_WINDOWS = (Path(__file__).parent / "sliding_windows.lua").read_text()
REVOKED_STATUS = -1
UNKNOWN_LIMITS = -2


@dataclass(frozen=True)
class Charge:
    """One tools/call to count: its client, the person its token acts for (None: the client acts
    for itself), and its tool with what the tool declares of its limit."""

    client_id: str
    person: str | None
    tool: str
    read_only: bool = True
    declared: int | None = None

    @classmethod
    def of(cls, principal: Principal, target: Guarded) -> Charge:
        return cls(principal.client_id, principal.person, target.audit_name, target.read_only, target.rate_limit_per_minute)

    def window_keys(self) -> list[str]:
        """The windows of LIMITS, in order; the tool's and the person's are per caller."""
        caller = ("person", self.person) if self.person is not None else ("client", self.client_id)
        keys = [drawbridge_redis.key("ratelimit", self.client_id), drawbridge_redis.key("ratelimit-tool", self.tool, *caller)]
        if self.person is not None:
            keys.append(drawbridge_redis.key("ratelimit-person", self.person))
        return keys


@dataclass(frozen=True)
class Decision:
    """Whether a call may run; `limited_by` names the limit that decided (the one that refused it,
    or the one with the fewest calls left), `limit` is that limit's size and `remaining` its calls left."""

    allowed: bool
    limit: int
    remaining: int
    retry_after_seconds: float
    revoked: bool = False
    limited_by: str = CLIENT


UNCOUNTED = Decision(True, 0, 0, 0.0)
REVOKED_DECISION = Decision(False, 0, 0, 0.0, revoked=True)


class LimiterUnavailable(Exception):
    """Redis is unreachable and the setting says fail-closed."""


class RateLimiter(ABC):
    @abstractmethod
    def admit(self, revocations: list[tuple[str, str]], issued_at: int, charge: Charge | None) -> Decision:
        """Refuse if any of the caller's revocation entries voids its token, issued at `issued_at`;
        else, given a `charge`, count one call in each of its limits if every one has room, and say
        which limit is full and when to retry if not."""


class RedisRateLimiter(RateLimiter):
    """The script by its SHA, in a pipeline shared with the Redis commands of concurrent requests."""

    def __init__(self, client: redis.Redis, policies: ClientPolicies, pipeline: PipelinedRedis | None = None) -> None:
        self.client = client
        self.policies = policies
        self.pipeline = pipeline or PipelinedRedis(client)
        self.script = client.register_script(SLIDING_WINDOWS)

    def admit(self, revocations: list[tuple[str, str]], issued_at: int, charge: Charge | None) -> Decision:
        keys = [revocation.redis_key(kind, identifier) for kind, identifier in revocations]
        args: list[str | int] = [len(keys), issued_at]
        if charge is not None:
            defaults = self.policies.defaults
            keys += [policy.limits_key(charge.client_id), *charge.window_keys()]
            tool_default = defaults.for_tool(charge.read_only, charge.declared)
            args += [WINDOW_SECONDS * 1000, secrets.token_hex(16), defaults.client, defaults.person, tool_default, policy.TOOL_FIELD_PREFIX + charge.tool]
        reply = self.pipeline.run_script(self.script, keys, args)
        if reply[0] == UNKNOWN_LIMITS:  # the first call since Redis started: bring the client's record
            assert charge is not None  # noqa: S101 - only a counted call reads limits
            record = self.policies.record(charge.client_id).redis_fields()
            reply = self.pipeline.run_script(self.script, keys, [*args, *(item for pair in record.items() for item in pair)])
        if reply[0] == REVOKED_STATUS:
            return REVOKED_DECISION
        if charge is None:
            return UNCOUNTED
        status, which, limit, remaining, wait_ms = reply
        return Decision(status == 1, int(limit), int(remaining), int(wait_ms) / 1000, limited_by=LIMITS[int(which) - 1])


class LocalRateLimiter(RateLimiter):
    """The same windows in this process, next to each client's limits as the database records them
    (read again every few seconds): the embedded default, and fail-open's fallback."""

    def __init__(self, revocations: Revocations, policies: ClientPolicies) -> None:
        self.revocations = revocations
        self.policies = policies
        self._calls: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def admit(self, revocations: list[tuple[str, str]], issued_at: int, charge: Charge | None) -> Decision:
        if self.revocations.any_revoked(revocations, issued_at):
            return REVOKED_DECISION
        return self.count(charge) if charge is not None else UNCOUNTED

    def count(self, charge: Charge) -> Decision:
        """As the script does: every window checked, then the call counted in all or in none."""
        keyed = zip(LIMITS, charge.window_keys(), self._limits(charge), strict=False)  # no person's window: two
        windows = [(name, key, limit) for name, key, limit in keyed if limit > 0]
        now = time.monotonic()
        with self._lock:
            full: Decision | None = None
            tightest: Decision | None = None
            for name, key, limit in windows:
                calls = self._calls.setdefault(key, deque())
                while calls and calls[0] <= now - WINDOW_SECONDS:
                    calls.popleft()
                if len(calls) >= limit:
                    wait = calls[len(calls) - limit] + WINDOW_SECONDS - now
                    if full is None or wait > full.retry_after_seconds:
                        full = Decision(False, limit, 0, wait, limited_by=name)
                elif tightest is None or limit - len(calls) - 1 < tightest.remaining:
                    tightest = Decision(True, limit, limit - len(calls) - 1, 0.0, limited_by=name)
            if full is not None:
                return full
            for _, key, _ in windows:
                self._calls[key].append(now)
        assert tightest is not None  # noqa: S101 - the client's limit is always at least 1
        return tightest

    def _limits(self, charge: Charge) -> tuple[int, int, int]:
        """The client's, the tool's and the person's limits, in the order of LIMITS (0: none)."""
        own, defaults = self.policies.cached(charge.client_id), self.policies.defaults
        tool = own.tools.get(charge.tool) or defaults.for_tool(charge.read_only, charge.declared)
        return own.client or defaults.client, tool, own.person or defaults.person


class ResilientRateLimiter(RateLimiter):
    """Redis first; when it fails, the configured behaviour, and Redis again as soon as it answers."""

    def __init__(self, primary: RedisRateLimiter, on_failure: str) -> None:
        self.primary = primary
        self.on_failure = on_failure
        # Only its windows are used: revocations are never checked without Redis (see `admit`).
        self.fallback = LocalRateLimiter(DatabaseRevocations(), primary.policies)
        self.failures = 0

    def admit(self, revocations: list[tuple[str, str]], issued_at: int, charge: Charge | None) -> Decision:
        try:
            return self.primary.admit(revocations, issued_at, charge)
        except redis.RedisError:
            if revocations:
                raise  # the revocation set lives in Redis: no answer without it (503), whatever the setting
            self._failed()
            return self.fallback.count(charge) if charge is not None else UNCOUNTED

    def _failed(self) -> None:
        """Logged and counted; fail-closed refuses (503), fail-open goes on with the local windows."""
        self.failures += 1
        metrics.RATE_LIMIT_BACKEND_FAILURES.inc()
        logger.warning("ratelimit_redis_unavailable", extra={"behaviour": self.on_failure})
        if self.on_failure == FAIL_CLOSED:
            raise LimiterUnavailable("rate limits cannot be checked") from None


def for_client(client: redis.Redis | None, policies: ClientPolicies, on_failure: str, pipeline: PipelinedRedis | None = None) -> RateLimiter:
    if client is None:
        return LocalRateLimiter(DatabaseRevocations(), policies)
    return ResilientRateLimiter(RedisRateLimiter(client, policies, pipeline), on_failure)


def admit(principal: Principal, tool: Guarded | None = None) -> Decision:
    """The caller's token is not revoked (else 401), and, given the `tool` it calls (or the
    resource it reads, the prompt it gets...: guarded.py), one call is counted against its limits
    (else 429 naming the limit that is full, and when to retry)."""
    charge = Charge.of(principal, tool) if tool is not None else None
    limiter: RateLimiter = services().ratelimit
    decision = limiter.admit(revocation_entries(principal), principal.issued_at, charge)
    if decision.revoked:
        raise InvalidToken(REVOKED)
    if not decision.allowed:
        assert tool is not None  # noqa: S101 - only a counted call is refused for its rate
        metrics.RATE_LIMITED.labels(principal.client_id, decision.limited_by).inc()
        retry = max(1, math.ceil(decision.retry_after_seconds))
        data = {"limitedBy": decision.limited_by, "limit": decision.limit, "windowSeconds": WINDOW_SECONDS, "retryAfterSeconds": retry}
        if decision.limited_by == TOOL:
            data["tool"] = tool.audit_name
        raise RateLimited(
            refusal(decision, tool.audit_name, retry), limited_by=decision.limited_by, data=data,
            headers={"Retry-After": str(retry), **headers(decision)},
        )
    return decision


def refusal(decision: Decision, tool: str, retry: int) -> str:
    """The refusal's message: which limit is full, in words a person or a model acts on."""
    if decision.limited_by == PERSON:
        reached = f"The person's rate limit of {decision.limit} tool calls per minute, across all the clients they use, is reached"
    elif decision.limited_by == TOOL:
        # Only a tool's name has no space; other targets name their method (guarded.py).
        target = f"the tool {tool}" if " " not in tool else tool
        reached = f"The rate limit of {decision.limit} calls per minute to {target} is reached"
    else:
        reached = f"This client's rate limit of {decision.limit} tool calls per minute is reached"
    return f"{reached}; retry in {retry} seconds."


def headers(decision: Decision) -> dict[str, str]:
    """RateLimit header fields (IETF httpapi draft), of the limit that decided."""
    reset = max(0, math.ceil(decision.retry_after_seconds))
    return {"RateLimit-Limit": str(decision.limit), "RateLimit-Remaining": str(decision.remaining), "RateLimit-Reset": str(reset)}
