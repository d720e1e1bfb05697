"""Per-process copies of values read from the database, each read again once it is a few seconds old."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")


class RefreshingCache(Generic[Key, Value]):
    """Values by key, read again once they are `max_age_seconds` old. When one goes stale the first
    caller reads it again, and callers arriving meanwhile keep the stale copy: at 64 requests in
    flight, an expiry otherwise sent all of them to the database at once (a stall of 100s of ms).
    A load that finds nothing (None) is not kept. At `max_entries` the cache starts over, the
    simplest bound: busy keys are read again once."""

    def __init__(self, load: Callable[[Key], Value | None], max_age_seconds: float, max_entries: int = 10_000) -> None:
        self.load = load
        self.max_age_seconds = max_age_seconds
        self.max_entries = max_entries
        self._entries: dict[Key, tuple[float, Value]] = {}

    def get(self, key: Key) -> Value | None:
        cached = self._entries.get(key)
        if cached is not None:
            read_at, value = cached
            if time.monotonic() - read_at < self.max_age_seconds:
                return value
            self._entries[key] = (time.monotonic(), value)  # the others keep this copy meanwhile
        value = self.load(key)
        if value is None:
            self._entries.pop(key, None)
            return None
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (time.monotonic(), value)
        return value

    def discard(self, key: Key) -> None:
        """Forget one value, so the next `get` reads it again."""
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()
