"""Wake-ups for streams waiting on the event log: one flag per waiting stream, set when its log grows.

With Redis, one listener per worker holds the worker's only long-lived connection, subscribed to
the channel every append publishes its stream id on, and wakes that stream's waiters; a waiting
stream holds no connection and sends no command, so a worker keeps 10,000 streams open on one
connection, each silent for as long as its client stays (no socket timeout to outlive).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from shared.background import BackgroundLoop

logger = logging.getLogger(__name__)

# How long the listener waits for a message before looking again (its socket stays open).
LISTEN_SECONDS = 30.0
RECONNECT_SECONDS = 1.0


class Wakeups:
    """Flags by stream id, for the streams of this process."""

    def __init__(self) -> None:
        self._waiting: dict[str, set[threading.Event]] = {}
        self._lock = threading.Lock()

    @contextmanager
    def watch(self, stream_id: str) -> Iterator[threading.Event]:
        """A flag set at each append to `stream_id` until the block ends (clear it before reading)."""
        flag = threading.Event()
        with self._lock:
            self._waiting.setdefault(stream_id, set()).add(flag)
        try:
            yield flag
        finally:
            with self._lock:
                flags = self._waiting.get(stream_id)
                if flags is not None:
                    flags.discard(flag)
                    if not flags:
                        del self._waiting[stream_id]

    def wake(self, stream_id: str) -> None:
        with self._lock:
            flags = list(self._waiting.get(stream_id, ()))
        for flag in flags:
            flag.set()

    def stop(self) -> None:
        """Nothing of this process's own runs in the background."""

    def wake_all(self) -> None:
        with self._lock:
            flags = [flag for flags in self._waiting.values() for flag in flags]
        for flag in flags:
            flag.set()


class RedisWakeups(Wakeups):
    """Wake-ups from appends on any worker or instance: they publish the stream id on `channel`."""

    def __init__(self, client: redis.Redis, channel: str) -> None:
        super().__init__()
        self.client = client
        self.channel = channel
        self._listener = BackgroundLoop(self._listen, "event-wakeups")

    @contextmanager
    def watch(self, stream_id: str) -> Iterator[threading.Event]:
        self._listener.start()  # in the process that waits, on its first wait
        with super().watch(stream_id) as flag:
            yield flag

    def stop(self) -> None:
        """Stop listening, within LISTEN_SECONDS."""
        self._listener.stop()

    def _listen(self) -> None:
        while self._listener.running:
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self.channel)
                # Appends made while nobody listened (at start, or while Redis was away) were not
                # heard: every waiting stream reads once.
                self.wake_all()
                while self._listener.running:
                    message = pubsub.get_message(timeout=LISTEN_SECONDS)
                    if message is not None:
                        self.wake(message["data"].decode())
            except redis.RedisError:
                # The streams wait on, silent but for keep-alives, until the listener is back.
                logger.warning("event_listener_lost", exc_info=True)
            finally:
                pubsub.close()
            self._listener.pause(RECONNECT_SECONDS)
