"""Wake-ups for streams waiting on the event log: one flag per waiting stream, set when its log grows.

With Redis, one listener per worker (`Listener`) holds the worker's only long-lived connection,
subscribed to the channel every append publishes its stream id on, and wakes that stream's waiters
(and to the channel of resource updates, notifications.py); a waiting
stream holds no connection and sends no command, so a worker keeps 10,000 streams open on one
connection, each silent for as long as its client stays (no socket timeout to outlive).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
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


class Listener:
    """The worker's one pub/sub connection: each channel's messages to that channel's handler.

    Handlers are named before the first `start`; `on_subscribed` runs each time the connection is
    subscribed again, since what was published while nobody listened was not heard."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._handlers: dict[str, Callable[[str], None]] = {}
        self._on_subscribed: list[Callable[[], None]] = []
        self._subscribed = threading.Event()
        self._loop = BackgroundLoop(self._listen, "pubsub-listener")

    def on(self, channel: str, handler: Callable[[str], None], on_subscribed: Callable[[], None] | None = None) -> None:
        self._handlers[channel] = handler
        if on_subscribed is not None:
            self._on_subscribed.append(on_subscribed)

    def start(self, wait_seconds: float = 0.0) -> bool:
        """Listen in this process (once); whether it is subscribed, after waiting `wait_seconds` at most."""
        self._loop.start()
        return self._subscribed.wait(wait_seconds) if wait_seconds else self._subscribed.is_set()

    def stop(self) -> None:
        """Stop listening, within LISTEN_SECONDS."""
        self._loop.stop()

    def _listen(self) -> None:
        while self._loop.running:
            pubsub = self.client.pubsub()
            try:
                pubsub.subscribe(*self._handlers)
                confirmed = 0
                while self._loop.running:
                    message = pubsub.get_message(timeout=LISTEN_SECONDS)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        # Redis confirms each channel: from then on nothing published there is missed.
                        confirmed += 1
                        if confirmed == len(self._handlers):
                            self._subscribed.set()
                            for heard_nothing in self._on_subscribed:
                                heard_nothing()
                    elif message["type"] == "message":
                        self._dispatch(message["channel"].decode(), message["data"].decode())
            except redis.RedisError:
                # The streams wait on, silent but for keep-alives, until the listener is back.
                logger.warning("pubsub_listener_lost", exc_info=True)
            finally:
                self._subscribed.clear()
                pubsub.close()
            self._loop.pause(RECONNECT_SECONDS)


    def _dispatch(self, channel: str, data: str) -> None:
        try:
            self._handlers[channel](data)
        except Exception:  # one bad message must not silence the worker's streams
            logger.exception("pubsub_message_failed", extra={"channel": channel})


class RedisWakeups(Wakeups):
    """Wake-ups from appends on any worker or instance: they publish the stream id on `channel`,
    which the worker's listener hears."""

    def __init__(self, listener: Listener, channel: str) -> None:
        super().__init__()
        self.listener = listener
        # Appends made while nobody listened (at start, or while Redis was away) were not heard:
        # every waiting stream reads once.
        listener.on(channel, self.wake, on_subscribed=self.wake_all)

    @contextmanager
    def watch(self, stream_id: str) -> Iterator[threading.Event]:
        self.listener.start()  # in the process that waits, on its first wait
        with super().watch(stream_id) as flag:
            yield flag

    def stop(self) -> None:
        self.listener.stop()
