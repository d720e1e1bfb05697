"""One round trip for many callers: what concurrent requests submit while a batch is in flight goes
out together in the next one, and each caller waits for its own answer.

Under the gevent worker a round trip's fixed cost (a send, a wait in the hub, the wake-ups) is most
of what a small Redis command or INSERT costs; sharing it is what makes the guardrails cheap.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import redis
from redis.commands.core import Script

from serving import graceful_stop

Item = TypeVar("Item")
Answer = TypeVar("Answer")


class BatchTimeout(Exception):
    """The batch carrying this item did not finish in time."""


@dataclass(frozen=True)
class Failed:
    """What `flush` answers for one item that failed on its own: that caller alone gets `error`."""

    error: Exception


@dataclass
class _Pending(Generic[Item, Answer]):
    item: Item
    done: threading.Event = field(default_factory=threading.Event)
    answer: Answer | None = None
    error: BaseException | None = None


class Batcher(Generic[Item, Answer]):
    """`flush` gets every item queued since the last batch (at most `max_batch`) and returns their
    answers in order; a `Failed` answer is raised to its caller only, and if `flush` raises,
    every caller in that batch gets the exception."""

    def __init__(
        self,
        name: str,
        flush: Callable[[list[Item]], list[Answer]],
        max_batch: int,
        wait_seconds: float,
        context: Callable[[], AbstractContextManager[object]] = nullcontext,
    ) -> None:
        self.name = name
        self.flush = flush
        self.max_batch = max_batch
        self.wait_seconds = wait_seconds
        self.context = context
        self._queue: queue.Queue[_Pending[Item, Answer]] = queue.Queue()
        self._started = False
        self._lock = threading.Lock()
        graceful_stop.drain_before_exit(self)

    def submit(self, item: Item) -> Answer:
        self._ensure_started()
        pending: _Pending[Item, Answer] = _Pending(item)
        self._queue.put(pending)
        if not pending.done.wait(self.wait_seconds):
            raise BatchTimeout(f"{self.name}: no answer within {self.wait_seconds} s")
        if pending.error is not None:
            raise pending.error
        return pending.answer  # type: ignore[return-value]

    def drain(self, seconds: float) -> None:
        """Wait, at most `seconds`, until every item submitted so far is flushed: a stopping worker
        commits the rows of the calls it cut short, whose callers no longer wait for them."""
        graceful_stop.wait(lambda: self._queue.unfinished_tasks > 0, time.monotonic() + seconds)

    def _ensure_started(self) -> None:
        if not self._started:
            with self._lock:
                if not self._started:
                    self._started = True
                    threading.Thread(target=self._loop, name=self.name, daemon=True).start()

    def _loop(self) -> None:
        with self.context():
            while True:
                batch = list(self._next_batch())
                try:
                    answers = self.flush([pending.item for pending in batch])
                except Exception as failure:  # every caller hears it; the loop goes on
                    for pending in batch:
                        pending.error = failure
                else:
                    for pending, answer in zip(batch, answers, strict=True):
                        if isinstance(answer, Failed):
                            pending.error = answer.error
                        else:
                            pending.answer = answer
                for pending in batch:
                    pending.done.set()
                    self._queue.task_done()

    def _next_batch(self) -> Iterator[_Pending[Item, Answer]]:
        yield self._queue.get()
        # Let the requests that are ready to run reach their own submit first, so they join this
        # batch instead of the next (gevent's sleep under the worker). Measured at c=64: 15 -> 26
        # items a batch and 5% more tool calls per second (A/B on one core); at c=16, 7 -> 10 items.
        time.sleep(0)
        for _ in range(self.max_batch - 1):
            try:
                yield self._queue.get_nowait()
            except queue.Empty:
                return


class PipelinedRedis:
    """Redis commands from concurrent requests, sent together in one pipeline (one round trip)."""

    # Everything queued goes out in the next round trip: a burst of 10,000 streams opening at once
    # is answered in a few round trips, not twenty in a row (at 500) of which the last came too late.
    MAX_BATCH = 10_000
    # A dead or frozen Redis fails the batch in flight within the socket timeout (2 s), and so every
    # caller queued behind it within two; this bound catches only a batch that never ends, and
    # outlasts a burst that keeps the worker busy (10,000 opens: 14 s before the first answer is read).
    WAIT_SECONDS = 30.0

    def __init__(self, client: redis.Redis) -> None:
        # One connection of its own, outside the process's shared pool: batches go out one at a
        # time from one thread, and a blocking pool's hand-over costs every round trip a queue and
        # a condition (measured: 2025-11-25 tools/call, two round trips each, 7% more CPU a call).
        shared_pool = client.connection_pool
        own_pool = redis.ConnectionPool(connection_class=shared_pool.connection_class, max_connections=1, **shared_pool.connection_kwargs)
        self.client = redis.Redis(connection_pool=own_pool)
        self._batcher: Batcher[tuple[Any, ...], Any] = Batcher("redis-pipeline", self._run, self.MAX_BATCH, self.WAIT_SECONDS)

    def execute(self, *command: Any) -> Any:
        """One command's reply; raises what redis-py raises (the batch's failure is everyone's)."""
        try:
            return self._batcher.submit(command)
        except BatchTimeout:
            raise redis.TimeoutError("Redis did not answer in time") from None

    def run_script(self, script: Script, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """A script registered on the client, run by its SHA; loaded again if Redis lost it (a restart)."""
        command = ("EVALSHA", script.sha, len(keys), *keys, *args)
        try:
            return self.execute(*command)
        except redis.exceptions.NoScriptError:  # every caller of the batch hears it: they load it together
            self.execute("SCRIPT LOAD", script.script)
            return self.execute(*command)

    def _run(self, commands: list[tuple[Any, ...]]) -> list[Any]:
        pipeline = self.client.pipeline(transaction=False)
        for command in commands:
            pipeline.execute_command(*command)
        # A command's own error (an unknown script, a wrong type) is its caller's alone.
        return [Failed(reply) if isinstance(reply, redis.RedisError) else reply for reply in pipeline.execute(raise_on_error=False)]
