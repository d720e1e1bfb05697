"""Legacy-era sessions (2025-11-25 and older): Mcp-Session-Id bound to the token's client and subject.

Kept in Redis when configured, so any worker or instance can serve any request of a session; the
embedded default keeps them in process (one worker).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass

import redis

from mcp_resource.batching import PipelinedRedis
from shared import redis as drawbridge_redis

SESSION_ID_BYTES = 32
IDLE_TIMEOUT_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Session:
    session_id: str
    client_id: str
    subject: str
    protocol_version: str

    def belongs_to(self, client_id: str, subject: str) -> bool:
        """Session ids are not authentication: the caller's token must be the session's owner's."""
        return self.client_id == client_id and self.subject == subject


class SessionStore(ABC):
    def create(self, client_id: str, subject: str, protocol_version: str) -> Session:
        # 256 random bits, URL-safe base64: visible ASCII, as the transports section requires.
        session = Session(secrets.token_urlsafe(SESSION_ID_BYTES), client_id, subject, protocol_version)
        self._save(session)
        return session

    @abstractmethod
    def _save(self, session: Session) -> None: ...

    @abstractmethod
    def get(self, session_id: str) -> Session | None:
        """The live session (its idle timer restarted), or None if unknown or ended."""

    @abstractmethod
    def end(self, session_id: str) -> None: ...


class RedisSessionStore(SessionStore):
    def __init__(self, client: redis.Redis, pipeline: PipelinedRedis) -> None:
        self.client = client
        self.pipeline = pipeline

    def _save(self, session: Session) -> None:
        self.client.set(drawbridge_redis.key("session", session.session_id), json.dumps(asdict(session)), ex=IDLE_TIMEOUT_SECONDS)

    def get(self, session_id: str) -> Session | None:
        # Every request of a session reads it: in the pipeline shared with concurrent requests.
        raw = self.pipeline.execute("GETEX", drawbridge_redis.key("session", session_id), "EX", IDLE_TIMEOUT_SECONDS)
        return Session(**json.loads(raw)) if raw else None

    def end(self, session_id: str) -> None:
        self.client.delete(drawbridge_redis.key("session", session_id))


class LocalSessionStore(SessionStore):
    def __init__(self) -> None:
        self._sessions: dict[str, tuple[Session, float]] = {}
        self._lock = threading.Lock()

    def _save(self, session: Session) -> None:
        with self._lock:
            self._sessions[session.session_id] = (session, time.monotonic())

    def get(self, session_id: str) -> Session | None:
        with self._lock:
            found = self._sessions.get(session_id)
            if found is None or time.monotonic() - found[1] > IDLE_TIMEOUT_SECONDS:
                self._sessions.pop(session_id, None)
                return None
            self._sessions[session_id] = (found[0], time.monotonic())
            return found[0]

    def end(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)


def for_client(client: redis.Redis | None, pipeline: PipelinedRedis | None) -> SessionStore:
    return RedisSessionStore(client, pipeline) if client is not None and pipeline is not None else LocalSessionStore()
