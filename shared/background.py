"""A loop a service object runs beside the requests, in a daemon thread of its own process: threads
do not survive gunicorn's fork, so each worker starts its loops after it (the services' `start()`,
from serving/hooks.py's post_worker_init), or on first use for the loops a request starts."""

from __future__ import annotations

import threading
from collections.abc import Callable


class BackgroundLoop:
    """`target` in a daemon thread named `name`, started once in this process by `start` (again
    after a `stop`). The target loops `while loop.pause(seconds)`, so `stop` ends it at its next
    pause. Each start gives its thread a stop signal of its own: a thread a `stop` did not wait for
    still ends, even when a `start` came before its next pause."""

    def __init__(self, target: Callable[[], None], name: str) -> None:
        self.target = target
        self.name = name
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._own = threading.local()  # each loop thread's own stop signal

    def start(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._stopping = threading.Event()
                self._thread = threading.Thread(target=self._run, args=(self._stopping,), name=self.name, daemon=True)
                self._thread.start()

    def _run(self, stopping: threading.Event) -> None:
        self._own.stopping = stopping
        self.target()

    def stop(self, wait_seconds: float = 0.0) -> None:
        """End the loop at its next pause (a loop mid-step, in a slow query, ends after it); wait
        for its thread at most `wait_seconds`. A stopping worker does not wait: its exit is bounded."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._stopping.set()
        if wait_seconds and thread is not None and thread is not threading.current_thread():
            thread.join(wait_seconds)

    def _signal(self) -> threading.Event:
        return getattr(self._own, "stopping", self._stopping)

    @property
    def running(self) -> bool:
        """False once asked to stop."""
        return not self._signal().is_set()

    def pause(self, seconds: float) -> bool:
        """Wait `seconds`, less if asked to stop; whether the loop goes on."""
        return not self._signal().wait(seconds)
