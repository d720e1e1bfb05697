"""Legacy `notifications/cancelled`: the request may run on another worker, so the mark is shared."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod

import redis

from shared import redis as drawbridge_redis

MARK_SECONDS = 3600


class CancelBoard(ABC):
    @abstractmethod
    def cancel(self, session_id: str, message_id: str | int) -> None: ...

    @abstractmethod
    def is_cancelled(self, session_id: str, message_id: str | int) -> bool: ...


class RedisCancelBoard(CancelBoard):
    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def _key(self, session_id: str, message_id: str | int) -> str:
        return drawbridge_redis.key("cancelled", session_id, repr(message_id))

    def cancel(self, session_id: str, message_id: str | int) -> None:
        self.client.set(self._key(session_id, message_id), 1, ex=MARK_SECONDS)

    def is_cancelled(self, session_id: str, message_id: str | int) -> bool:
        return bool(self.client.exists(self._key(session_id, message_id)))


class LocalCancelBoard(CancelBoard):
    def __init__(self) -> None:
        self._marks: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def cancel(self, session_id: str, message_id: str | int) -> None:
        with self._lock:
            self._marks.add((session_id, repr(message_id)))

    def is_cancelled(self, session_id: str, message_id: str | int) -> bool:
        return (session_id, repr(message_id)) in self._marks


def for_client(client: redis.Redis | None) -> CancelBoard:
    return RedisCancelBoard(client) if client is not None else LocalCancelBoard()
