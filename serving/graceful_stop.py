"""A worker's graceful stop (SIGTERM), as the app takes part in it: its long-lived streams end with
a retry hint so their clients reconnect elsewhere, work it runs beside a request is waited for, and
what it batches is flushed before the process exits.

The worker (serving/worker.py) calls `begin`, waits while `work_in_flight`, then `drain`s.
Nothing here runs until a worker stops, except for a set insert and removal per stream chunk and
per background call.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import gevent

POLL_SECONDS = 0.02


class StreamEnd(BaseException):
    """Thrown into a stream's greenlet while it waits for its next chunk: the worker is stopping.
    A BaseException, like gevent.Timeout, so that no `except Exception` on its way swallows it."""


class Drainable(Protocol):
    def drain(self, seconds: float) -> None: ...


_stopping = threading.Event()
_waiting: set[Any] = set()  # the greenlets of streams waiting for their next chunk
_work: set[object] = set()  # one token per background call still running
_drainables: weakref.WeakSet[Drainable] = weakref.WeakSet()


def stopping() -> bool:
    return _stopping.is_set()


def ends_on_stop(stream: Iterator[str], last: str) -> Iterator[str]:
    """`stream` until it ends or its worker stops; then `last`, and the response ends cleanly.
    A stream opened while the worker stops gets only `last`."""
    current = gevent.getcurrent()
    while not _stopping.is_set():
        _waiting.add(current)
        try:
            chunk = next(stream)
        except StopIteration:
            return
        except StreamEnd:
            break
        finally:
            _waiting.discard(current)
        yield chunk
    yield last


def tracked(work: Callable[..., None]) -> Callable[..., None]:
    """`work` counted as in flight while it runs: a stopping worker waits for it."""

    def run(*args: Any) -> None:
        token = object()
        _work.add(token)
        try:
            work(*args)
        finally:
            _work.discard(token)

    return run


def drain_before_exit(drainable: Drainable) -> None:
    """`drainable.drain(seconds)` is called when the worker is about to exit."""
    _drainables.add(drainable)


def begin() -> None:
    """End every open stream: one waiting for its next chunk at once, one being written after its
    chunk; and every stream opened from now on after its first."""
    _stopping.set()
    loop = gevent.get_hub().loop
    for greenlet in list(_waiting):
        loop.run_callback(_end_if_waiting, greenlet)


def _end_if_waiting(greenlet: Any) -> None:
    # Checked in the hub, where nothing else runs: a stream that has since moved on to writing its
    # chunk is not interrupted there, it ends at its next turn.
    if greenlet in _waiting:
        greenlet.throw(StreamEnd)


def work_in_flight() -> bool:
    return bool(_work)


def drain(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    for drainable in list(_drainables):
        drainable.drain(max(0.0, deadline - time.monotonic()))


def wait(condition: Callable[[], bool], deadline: float) -> None:
    """Sleep until `condition()` is false or the monotonic `deadline` passes."""
    while condition() and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
