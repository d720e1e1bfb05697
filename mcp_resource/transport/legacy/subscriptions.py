"""The handshake eras' resource subscriptions (`resources/subscribe`): the URIs each session
subscribed to. In Redis when configured, so a subscription made through any worker is heard by the
session's GET stream on any other; in process otherwise. A session's set lives as long as a session
can (sessions.OWNER_KEEP_SECONDS) and ends with it (DELETE). 2026-07-28 keeps none: its
`subscriptions/listen` stream carries its own URIs.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod

import redis

from mcp_resource.batching import PipelinedRedis
from mcp_resource.transport.legacy.sessions import OWNER_KEEP_SECONDS
from shared import redis as drawbridge_redis

logger = logging.getLogger(__name__)

MAX_PER_SESSION = 100

# KEYS[1] the session's URIs. ARGV: the URI, the cap, the set's lifetime. Atomic, so concurrent
# subscribes through several workers never pass the cap together; subscribing again is no change.
ADD = """
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 and redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
"""


class Subscriptions(ABC):
    @abstractmethod
    def add(self, session_id: str, uri: str) -> bool:
        """Subscribe the session to `uri`; False if it holds MAX_PER_SESSION others already."""

    @abstractmethod
    def remove(self, session_id: str, uri: str) -> None: ...

    @abstractmethod
    def has(self, session_id: str, uri: str) -> bool:
        """Whether the session is subscribed to `uri` (asked by its stream as an update arrives)."""

    @abstractmethod
    def end(self, session_id: str) -> None:
        """Forget the session's subscriptions (it ended)."""


class RedisSubscriptions(Subscriptions):
    """In the pipeline shared with concurrent requests: the streams a change reaches ask at once."""

    def __init__(self, client: redis.Redis, pipeline: PipelinedRedis) -> None:
        self.pipeline = pipeline
        self.add_script = client.register_script(ADD)

    def add(self, session_id: str, uri: str) -> bool:
        return self.pipeline.run_script(self.add_script, [self._key(session_id)], [uri, MAX_PER_SESSION, OWNER_KEEP_SECONDS]) == 1

    def remove(self, session_id: str, uri: str) -> None:
        self.pipeline.execute("SREM", self._key(session_id), uri)

    def has(self, session_id: str, uri: str) -> bool:
        """False while Redis is away: the stream stays open and misses this update (logged)."""
        try:
            return bool(self.pipeline.execute("SISMEMBER", self._key(session_id), uri))
        except redis.RedisError:
            logger.warning("resource_update_not_delivered", extra={"uri": uri}, exc_info=True)
            return False

    def end(self, session_id: str) -> None:
        self.pipeline.execute("DEL", self._key(session_id))

    @staticmethod
    def _key(session_id: str) -> str:
        return drawbridge_redis.key("subscriptions", session_id)


class LocalSubscriptions(Subscriptions):
    def __init__(self) -> None:
        self._uris: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def add(self, session_id: str, uri: str) -> bool:
        with self._lock:
            uris = self._uris.setdefault(session_id, set())
            if uri not in uris and len(uris) >= MAX_PER_SESSION:
                return False
            uris.add(uri)
            return True

    def remove(self, session_id: str, uri: str) -> None:
        with self._lock:
            self._uris.get(session_id, set()).discard(uri)

    def has(self, session_id: str, uri: str) -> bool:
        with self._lock:
            return uri in self._uris.get(session_id, ())

    def end(self, session_id: str) -> None:
        with self._lock:
            self._uris.pop(session_id, None)


def for_client(client: redis.Redis | None, pipeline: PipelinedRedis | None) -> Subscriptions:
    return RedisSubscriptions(client, pipeline) if client is not None and pipeline is not None else LocalSubscriptions()
