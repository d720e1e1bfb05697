"""Per-process copies of values read from the database, each read again once it is a few seconds old."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")


class RefreshingCache(Generic[Key, Value]):
    """Values by key, read again once they are `max_age_seconds` old, by one caller at a time. A key
    not held yet is read by the first caller, and callers arriving meanwhile wait for that read (a
    burst for a new key costs one query, not one per caller). A stale value is read again by the
    first caller, and callers arriving meanwhile keep the stale copy: at 64 requests in flight, an
    expiry otherwise sent all of them to the database at once (a stall of 100s of ms). Without
    `serve_stale`, a stale value is never given out: it is read again as a missing one is. A load
    that finds nothing (None) is not kept. At `max_entries` the cache starts over, the simplest
    bound: busy keys are read again once."""

    def __init__(
        self, load: Callable[[Key], Value | None], max_age_seconds: float, max_entries: int = 10_000, serve_stale: bool = True
    ) -> None:
        self.load = load
        self.max_age_seconds = max_age_seconds
        self.max_entries = max_entries
        self.serve_stale = serve_stale
        self._entries: dict[Key, tuple[float, Value]] = {}
        self._lock = threading.Lock()  # gevent's under the workers: waiting yields to other greenlets
        self._reads: dict[Key, Future[Value | None]] = {}

    def get(self, key: Key) -> Value | None:
        cached = self._entries.get(key)
        if cached is not None:
            read_at, value = cached
            if time.monotonic() - read_at < self.max_age_seconds:
                return value
            if self.serve_stale:
                self._entries[key] = (time.monotonic(), value)  # the others keep this copy meanwhile
                return self._read(key)
        return self._read_once(key)

    def discard(self, key: Key) -> None:
        """Forget one value, so the next `get` reads it again."""
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()

    def _read_once(self, key: Key) -> Value | None:
        """The first caller reads; the others wait for its value, or its error."""
        with self._lock:
            read = self._reads.get(key)
            leading = read is None
            if read is None:
                read = self._reads[key] = Future()
        if not leading:
            return read.result()
        try:
            value = self._read(key)
        except BaseException as error:
            read.set_exception(error)
            raise
        else:
            read.set_result(value)
            return value
        finally:
            with self._lock:
                del self._reads[key]

    def _read(self, key: Key) -> Value | None:
        value = self.load(key)
        if value is None:
            self._entries.pop(key, None)
            return None
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (time.monotonic(), value)
        return value
