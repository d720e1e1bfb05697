"""Legacy-era resumability: each streamed response's events, kept so a client can resume after
`Last-Event-ID`. Redis streams when configured (any worker can replay); in process otherwise.

Reading never blocks: a stream waits for its log to grow on a wake-up flag (`watch`,
mcp_resource/wakeups.py), so a waiting stream holds no Redis connection."""

from __future__ import annotations

import json
import secrets
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import redis

from mcp_resource.batching import PipelinedRedis
from mcp_resource.wakeups import Listener, RedisWakeups, Wakeups
from shared import redis as drawbridge_redis

KEEP_SECONDS = 3600
MAX_EVENTS_PER_STREAM = 10_000


@dataclass(frozen=True)
class Event:
    """One logged message; `final` marks the end of its stream (an empty final message: cancelled)."""

    seq: int
    message: dict[str, Any]
    final: bool


def new_stream_id() -> str:
    return secrets.token_urlsafe(12)


def event_id(stream_id: str, seq: int) -> str:
    """The SSE id encodes the stream it belongs to, so a resume replays only that stream."""
    return f"{stream_id}.{seq}"


def parse_event_id(value: str) -> tuple[str, int] | None:
    stream_id, _, seq = value.rpartition(".")
    return (stream_id, int(seq)) if stream_id and seq.isdigit() else None


class EventLog(ABC):
    def __init__(self, wakeups: Wakeups) -> None:
        self.wakeups = wakeups

    def watch(self, stream_id: str) -> AbstractContextManager[threading.Event]:
        """A flag set whenever `stream_id` gets an event, while the block lasts."""
        return self.wakeups.watch(stream_id)

    def stop(self) -> None:
        """Stop hearing other workers' appends (the listener a first `watch` started)."""
        self.wakeups.stop()

    @abstractmethod
    def open(self, stream_id: str, session_id: str) -> None:
        """Start a stream owned by a session (only that session may resume it)."""

    @abstractmethod
    def owner(self, stream_id: str) -> str | None: ...

    @abstractmethod
    def append(self, stream_id: str, message: dict[str, Any], final: bool) -> None:
        """Add an event; its sequence number is the stream's next (several writers may share a stream)."""

    @abstractmethod
    def read(self, stream_id: str, after: int) -> list[Event]:
        """The events after `after` there are now (wait for more with `watch`)."""


class RedisEventLog(EventLog):
    """Appends publish their stream id on WAKE_CHANNEL, which each worker's listener hears."""

    WAKE_CHANNEL = drawbridge_redis.key("events", "appended")

    def __init__(self, client: redis.Redis, pipeline: PipelinedRedis, listener: Listener) -> None:
        super().__init__(RedisWakeups(listener, self.WAKE_CHANNEL))
        self.client = client
        self.pipeline = pipeline  # opening and reading streams: shared with concurrent requests

    def _key(self, stream_id: str) -> str:
        return drawbridge_redis.key("events", stream_id)

    def open(self, stream_id: str, session_id: str) -> None:
        self.pipeline.execute("SET", self._key(stream_id) + ":owner", session_id, "EX", KEEP_SECONDS)

    def owner(self, stream_id: str) -> str | None:
        raw = self.pipeline.execute("GET", self._key(stream_id) + ":owner")
        return raw.decode() if raw else None

    def append(self, stream_id: str, message: dict[str, Any], final: bool) -> None:
        key = self._key(stream_id)
        seq = self.client.incr(key + ":seq")
        pipe = self.client.pipeline(transaction=False)
        pipe.xadd(key, {"m": json.dumps(message), "f": int(final)}, id=f"0-{seq}", maxlen=MAX_EVENTS_PER_STREAM)
        pipe.expire(key, KEEP_SECONDS)
        pipe.expire(key + ":seq", KEEP_SECONDS)
        pipe.publish(self.WAKE_CHANNEL, stream_id)
        pipe.execute()

    def read(self, stream_id: str, after: int) -> list[Event]:
        found = self.pipeline.execute("XREAD", "STREAMS", self._key(stream_id), f"0-{after}")
        return [
            Event(seq=int(entry_id.decode().split("-")[1]), message=json.loads(fields[b"m"]), final=fields[b"f"] == b"1")
            for _, entries in found or ()
            for entry_id, fields in entries
        ]


class LocalEventLog(EventLog):
    def __init__(self) -> None:
        super().__init__(Wakeups())
        self._streams: dict[str, list[Event]] = {}
        self._owners: dict[str, str] = {}
        self._finished: deque[tuple[float, str]] = deque()
        self._lock = threading.Lock()

    def open(self, stream_id: str, session_id: str) -> None:
        with self._lock:
            while self._finished and time.monotonic() - self._finished[0][0] > KEEP_SECONDS:
                _, old = self._finished.popleft()
                self._streams.pop(old, None)
                self._owners.pop(old, None)
            self._owners[stream_id] = session_id
            self._streams[stream_id] = []

    def owner(self, stream_id: str) -> str | None:
        return self._owners.get(stream_id)

    def append(self, stream_id: str, message: dict[str, Any], final: bool) -> None:
        with self._lock:
            stream = self._streams.setdefault(stream_id, [])
            stream.append(Event(len(stream) + 1, message, final))
            if final:
                self._finished.append((time.monotonic(), stream_id))
        self.wakeups.wake(stream_id)

    def read(self, stream_id: str, after: int) -> list[Event]:
        with self._lock:
            return self._streams.get(stream_id, [])[after:]


def for_client(client: redis.Redis | None, pipeline: PipelinedRedis | None, listener: Listener | None) -> EventLog:
    if client is not None and pipeline is not None and listener is not None:
        return RedisEventLog(client, pipeline, listener)
    return LocalEventLog()
