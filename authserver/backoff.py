"""Growing waits after failed attempts (NIST SP 800-63B section 5.2.2), in Redis or in process.

A key's record holds its failures in a row and when the last one happened; past a few free
failures the next attempt waits, twice as long after every further failure, up to a cap. An
attempt is counted when it is let through, before its outcome is known, so attempts sent in
parallel are let through one at a time once the waits have begun.
"""

from __future__ import annotations

import math
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import redis

from shared import redis as drawbridge_redis

T = TypeVar("T")


@dataclass(frozen=True)
class BackoffPolicy:
    free_failures: int
    first_wait_seconds: float
    max_wait_seconds: float
    #: A record nobody has touched for this long is forgotten.
    forget_after_seconds: int

    def wait_seconds(self, failures: int) -> float:
        """How long the next attempt waits after `failures` failures in a row."""
        if failures < self.free_failures:
            return 0.0
        return min(self.first_wait_seconds * 2 ** (failures - self.free_failures), self.max_wait_seconds)


@dataclass(frozen=True)
class Record:
    failures: int = 0
    last_seconds: float = 0.0  # on the backend's clock


# A change to one key's record: the new record (None forgets the key) and what to answer.
Change = Callable[[Record, float], tuple[Record | None, T]]


class Backoff(ABC):
    """The policy's waits, on a store that changes one key's record atomically."""

    def __init__(self, policy: BackoffPolicy) -> None:
        self.policy = policy

    def attempt(self, key: str) -> int:
        """Let one attempt through and count it (0), or answer the whole seconds it must still wait."""

        def let_through(record: Record, now: float) -> tuple[Record | None, int]:
            left = record.last_seconds + self.policy.wait_seconds(record.failures) - now
            if left > 0:
                return record, math.ceil(left)
            return Record(record.failures + 1, now), 0

        return self._change(key, let_through)

    def failed(self, key: str) -> None:
        """The attempt let through failed: the wait runs from now."""
        self._change(key, lambda record, now: (Record(record.failures, now), None))

    def forgive(self, key: str) -> None:
        """Take back the count of the last attempt let through (it succeeded, or was refused elsewhere)."""
        self._change(key, lambda record, now: (Record(max(record.failures - 1, 0), record.last_seconds), None))

    def clear(self, key: str) -> None:
        self._change(key, lambda record, now: (None, None))

    @abstractmethod
    def _change(self, key: str, change: Change[T]) -> T:
        """Apply `change` to the key's record as one atomic step; answer what it answers."""


class RedisBackoff(Backoff):
    """Records as Redis hashes, changed in a WATCH/MULTI transaction: every worker and instance
    shares them, and two changes to one key never interleave."""

    def __init__(self, client: redis.Redis, policy: BackoffPolicy, area: str) -> None:
        super().__init__(policy)
        self.client = client
        self.area = area

    def _change(self, key: str, change: Change[T]) -> T:
        name = drawbridge_redis.key("backoff", self.area, key)

        def transaction(pipe: redis.client.Pipeline) -> T:
            failures, last = pipe.hmget(name, "failures", "last")
            before = Record(int(failures or 0), float(last or 0))
            # Wall-clock time: the records are shared by processes on several machines.
            after, answer = change(before, time.time())
            pipe.multi()
            if after is None:
                pipe.delete(name)
            elif after != before:
                pipe.hset(name, mapping={"failures": after.failures, "last": after.last_seconds})
                pipe.expire(name, self.policy.forget_after_seconds)
            return answer

        # redis-py types `func` as returning None and the call as returning a list, but with
        # value_from_callable the call returns what `func` returned.
        return self.client.transaction(transaction, name, value_from_callable=True)  # type: ignore[arg-type, return-value]


class LocalBackoff(Backoff):
    """The embedded default's stand-in: one process, one dict, one lock."""

    # Forgotten records are swept out whenever the dict grows past this many keys.
    SWEEP_AT_KEYS = 10_000

    def __init__(self, policy: BackoffPolicy) -> None:
        super().__init__(policy)
        self._records: dict[str, Record] = {}
        self._lock = threading.Lock()

    def _change(self, key: str, change: Change[T]) -> T:
        now = time.monotonic()
        with self._lock:
            before = self._records.get(key, Record())
            if now - before.last_seconds >= self.policy.forget_after_seconds:
                before = Record()
            after, answer = change(before, now)
            if after is None:
                self._records.pop(key, None)
            elif after != before:
                self._records[key] = after
                if len(self._records) > self.SWEEP_AT_KEYS:
                    self._sweep(now)
            return answer

    def _sweep(self, now: float) -> None:
        forget = self.policy.forget_after_seconds
        self._records = {k: r for k, r in self._records.items() if now - r.last_seconds < forget}


def for_client(client: redis.Redis | None, policy: BackoffPolicy, area: str) -> Backoff:
    return RedisBackoff(client, policy, area) if client is not None else LocalBackoff(policy)
