"""Legacy-era sessions (2025-11-25 and older): Mcp-Session-Id bound to the token's client and subject.

Kept in Redis when configured, so any worker or instance can serve any request of a session; the
embedded default keeps them in process (one worker). A session unused for an hour ends, and any
session after a day (its client then gets 404 and starts a new one, as the transports section
requires); each caller (client and subject) may hold DRAWBRIDGE_MAX_SESSIONS_PER_CLIENT live
sessions; one more is 429. A 2024-11-05 session lives only while its stream renews it, so a message
for a session no stream reads is refused instead of answered to nobody.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import redis

from mcp_resource.batching import PipelinedRedis
from mcp_resource.errors import RateLimited
from shared import redis as drawbridge_redis

SESSION_ID_BYTES = 32
IDLE_TIMEOUT_SECONDS = 3600
# A client at its cap can end a session (DELETE) at once, or wait for an idle one to lapse.
FULL_RETRY_AFTER_SECONDS = 60
# How long a caller's list of session ids outlives its last new session, and so the longest any
# session lives however busy: one the list had forgotten would escape the cap.
OWNER_KEEP_SECONDS = 24 * 3600

# KEYS[1] the caller's session ids (a set), KEYS[2] the new session. ARGV: its id, its record, the
# idle timeout, the cap, the prefix of session keys, and OWNER_KEEP_SECONDS. Only a caller at the
# cap has its list pruned of sessions that lapsed or ended, then counted again: atomic, so
# concurrent workers never pass the cap together, and O(1) below it. The listed sessions' keys are
# built in the script, which one Redis (as deploy/ runs) allows.
CREATE = """
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
    if redis.call('EXISTS', ARGV[5] .. id) == 0 then
      redis.call('SREM', KEYS[1], id)
    end
  end
  if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[4]) then
    return 0
  end
end
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[6])
return 1
"""


@dataclass(frozen=True)
class Session:
    session_id: str
    client_id: str
    subject: str
    protocol_version: str
    created_at: float = field(default_factory=time.time)
    # logging/setLevel: the least severe log message the session's calls send (None: none at all).
    log_level: str | None = None
    # What the client declared in initialize: whether a tool may ask it (elicitation, sampling, roots).
    client_capabilities: dict[str, Any] = field(default_factory=dict)

    def record(self) -> str:
        """The JSON Redis keeps; an unset log level or empty capabilities are left out, so a worker
        of the release before these fields (in a rolling deploy) still reads every such session."""
        fields = asdict(self)
        for name in ("log_level", "client_capabilities"):
            if not fields[name]:
                del fields[name]
        return json.dumps(fields)

    @property
    def outlived(self) -> bool:
        """Older than its caller's list of session ids is kept (OWNER_KEEP_SECONDS): it has ended."""
        return time.time() - self.created_at > OWNER_KEEP_SECONDS

    def belongs_to(self, client_id: str, subject: str) -> bool:
        """Session ids are not authentication: the caller's token must be the session's owner's."""
        return self.client_id == client_id and self.subject == subject


def why_not_found(session: Session | None) -> str:
    """A SessionNotFound's detail, for the log only: the client is told no more than "not found",
    so a session id learns nothing of sessions that are not its caller's."""
    if session is None:
        return "no live session has this id: never made, deleted, or idle past its timeout"
    return f"the session is another caller's: client {session.client_id}, and the token's client or subject differs"


class SessionStore(ABC):
    def __init__(self, max_per_caller: int) -> None:
        self.max_per_caller = max_per_caller

    def create(
        self,
        client_id: str,
        subject: str,
        protocol_version: str,
        idle_seconds: int = IDLE_TIMEOUT_SECONDS,
        client_capabilities: dict[str, Any] | None = None,
    ) -> Session:
        """A new session that ends after `idle_seconds` unused, or 429 (RateLimited) if the caller
        already holds as many as allowed."""
        # 256 random bits, URL-safe base64: visible ASCII, as the transports section requires.
        session = Session(
            secrets.token_urlsafe(SESSION_ID_BYTES), client_id, subject, protocol_version, client_capabilities=client_capabilities or {}
        )
        if not self._save_within_cap(session, idle_seconds):
            raise RateLimited(
                f"Too many live sessions for this client ({self.max_per_caller}); end one with DELETE, "
                f"or retry in {FULL_RETRY_AFTER_SECONDS} seconds.",
                data={"limit": self.max_per_caller, "retryAfterSeconds": FULL_RETRY_AFTER_SECONDS},
                headers={"Retry-After": str(FULL_RETRY_AFTER_SECONDS)},
            )
        return session

    @abstractmethod
    def _save_within_cap(self, session: Session, idle_seconds: int) -> bool:
        """Save the session unless its caller holds max_per_caller live ones already."""

    @abstractmethod
    def get(self, session_id: str, idle_seconds: int | None = IDLE_TIMEOUT_SECONDS) -> Session | None:
        """The live session, or None if unknown or ended; its idle timer restarted at `idle_seconds`
        (None: left running)."""

    @abstractmethod
    def touch(self, idle_by_session: dict[str, int]) -> None:
        """Restart the idle timer of each live session at its `idle_seconds`, all at once."""

    @abstractmethod
    def set_log_level(self, session: Session, level: str) -> None:
        """Keep `level` in the live session's record, its idle timer left running."""

    @abstractmethod
    def end(self, session_id: str) -> None: ...


class RedisSessionStore(SessionStore):
    def __init__(self, client: redis.Redis, pipeline: PipelinedRedis, max_per_caller: int) -> None:
        super().__init__(max_per_caller)
        self.client = client
        self.pipeline = pipeline
        self.create_script = client.register_script(CREATE)

    def _save_within_cap(self, session: Session, idle_seconds: int) -> bool:
        owner = drawbridge_redis.key("sessions", session.client_id, session.subject)
        args = [session.session_id, session.record(), idle_seconds, self.max_per_caller, drawbridge_redis.key("session", ""), OWNER_KEEP_SECONDS]
        return self.pipeline.run_script(self.create_script, [owner, drawbridge_redis.key("session", session.session_id)], args) == 1

    def get(self, session_id: str, idle_seconds: int | None = IDLE_TIMEOUT_SECONDS) -> Session | None:
        # Every request of a session reads it: in the pipeline shared with concurrent requests.
        name = drawbridge_redis.key("session", session_id)
        raw = self.pipeline.execute("GET", name) if idle_seconds is None else self.pipeline.execute("GETEX", name, "EX", idle_seconds)
        session = Session(**json.loads(raw)) if raw else None
        if session is not None and session.outlived:
            self.end(session_id)
            return None
        return session

    def touch(self, idle_by_session: dict[str, int]) -> None:
        pipeline = self.client.pipeline(transaction=False)
        for session_id, idle_seconds in idle_by_session.items():
            pipeline.expire(drawbridge_redis.key("session", session_id), idle_seconds)
        pipeline.execute()

    def set_log_level(self, session: Session, level: str) -> None:
        record = replace(session, log_level=level).record()
        self.pipeline.execute("SET", drawbridge_redis.key("session", session.session_id), record, "KEEPTTL", "XX")

    def end(self, session_id: str) -> None:
        self.pipeline.execute("DEL", drawbridge_redis.key("session", session_id))


class LocalSessionStore(SessionStore):
    def __init__(self, max_per_caller: int) -> None:
        super().__init__(max_per_caller)
        self._sessions: dict[str, tuple[Session, float]] = {}  # with the moment it lapses
        self._by_caller: dict[tuple[str, str], set[str]] = {}
        self._lock = threading.Lock()

    def _save_within_cap(self, session: Session, idle_seconds: int) -> bool:
        with self._lock:
            ids = self._by_caller.setdefault((session.client_id, session.subject), set())
            if len(ids) >= self.max_per_caller:  # as in Redis: prune only at the cap
                ids.difference_update([i for i in ids if self._live(i) is None])
                if len(ids) >= self.max_per_caller:
                    return False
            ids.add(session.session_id)
            self._sessions[session.session_id] = (session, time.monotonic() + idle_seconds)
            return True

    def get(self, session_id: str, idle_seconds: int | None = IDLE_TIMEOUT_SECONDS) -> Session | None:
        with self._lock:
            session = self._live(session_id)
            if session is not None and idle_seconds is not None:
                self._sessions[session_id] = (session, time.monotonic() + idle_seconds)
            return session

    def touch(self, idle_by_session: dict[str, int]) -> None:
        with self._lock:
            for session_id, idle_seconds in idle_by_session.items():
                session = self._live(session_id)
                if session is not None:
                    self._sessions[session_id] = (session, time.monotonic() + idle_seconds)

    def _live(self, session_id: str) -> Session | None:
        """The session if it has not lapsed (a lapsed one is dropped); the caller holds the lock."""
        found = self._sessions.get(session_id)
        if found is not None and (time.monotonic() > found[1] or found[0].outlived):
            del self._sessions[session_id]
            return None
        return found[0] if found is not None else None

    def set_log_level(self, session: Session, level: str) -> None:
        with self._lock:
            found = self._sessions.get(session.session_id)
            if found is not None:
                self._sessions[session.session_id] = (replace(found[0], log_level=level), found[1])

    def end(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)


def for_client(client: redis.Redis | None, pipeline: PipelinedRedis | None, max_per_caller: int) -> SessionStore:
    if client is not None and pipeline is not None:
        return RedisSessionStore(client, pipeline, max_per_caller)
    return LocalSessionStore(max_per_caller)
