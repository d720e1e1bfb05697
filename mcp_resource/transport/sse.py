"""Server-sent events: formatting, keep-alive comments, and a request's work streamed beside it."""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from flask import Flask, Response

from mcp_resource import jsonrpc
from mcp_resource.errors import Cancelled, InternalError, JsonRpcError, MessageId
from mcp_resource.guardrails.streams import Lease
from mcp_resource.notifications import Hub, Notice
from mcp_resource.protocol.versions import LOG_LEVELS
from mcp_resource.transport.legacy.events import EventLog, event_id, new_stream_id
from serving import graceful_stop
from shared import metrics
from shared.logging import error_answered

logger = logging.getLogger(__name__)

KEEPALIVE = ": keep-alive\n\n"
# How long a client waits before resuming a stream the server closed (SSE `retry`, SEP-1699).
RETRY_MILLISECONDS = 1000
# The last chunk of a stream its worker ended while stopping: the client reconnects after `retry`,
# to another worker or instance.
STOPPING = f": server stopping\nretry: {RETRY_MILLISECONDS}\n\n"
# How often a stream the server may close early (StreamedRequest.close_stream) looks at its stop flag.
STOP_POLL_SECONDS = 0.5
TIMER_SLACK_SECONDS = 0.05
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def event(message: dict[str, Any], event_id: str | None = None) -> str:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: message\ndata: {json.dumps(message, separators=(',', ':'))}\n\n"


def response(stream: Iterator[str]) -> Response:
    """A streamed text/event-stream response that proxies must not buffer."""
    return Response(_counted(stream), mimetype="text/event-stream", headers=HEADERS)


def held_response(lease: Lease, stream: Iterator[str], on_close: Callable[[], None] | None = None) -> Response:
    """A stream that stays open until the client leaves or the worker stops (it then ends with a
    retry hint), holding its caller's slot: renewed as it sends, given back (and `on_close` run)
    when the server closes the response, started or not."""
    answer = response(_renewing(lease, graceful_stop.ends_on_stop(stream, STOPPING)))
    answer.call_on_close(lease.release)
    if on_close is not None:
        answer.call_on_close(on_close)
    return answer


def _renewing(lease: Lease, stream: Iterator[str]) -> Iterator[str]:
    for chunk in stream:
        yield chunk
        lease.renew_if_due()  # every stream sends at least a keep-alive per interval


def _counted(stream: Iterator[str]) -> Iterator[str]:
    metrics.OPEN_STREAMS.inc()
    try:
        yield from stream
    finally:
        metrics.OPEN_STREAMS.dec()


def notification(method: str, params: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": jsonrpc.VERSION, "method": method, "params": params}


class ProgressLine:
    """Turns a tool's progress reports into notifications/progress for one progress token:
    strictly increasing values only, none after completion (progress utility)."""

    def __init__(self, token: str | int, sink: Callable[[dict[str, Any]], None]) -> None:
        self.token = token
        self.sink = sink
        self.last: float | None = None
        self.closed = False

    def __call__(self, progress: float, total: float | None, message: str | None) -> None:
        if self.closed or (self.last is not None and progress <= self.last):
            return
        self.last = progress
        params: dict[str, Any] = {"progressToken": self.token, "progress": progress}
        if total is not None:
            params["total"] = total
        if message:
            params["message"] = message
        self.sink(notification("notifications/progress", params))


def server_notifications(
    hub: Hub, first: str, keepalive_seconds: float, wanted: Callable[[Notice], dict[str, Any] | None]
) -> Iterator[str]:
    """A long-lived stream: `first`, then each published notice `wanted` turns into params
    (None: not for this stream), with keep-alive comments while quiet. Subscribes at once, so
    nothing published while the response starts is lost."""
    inbox = hub.subscribe()

    def stream() -> Iterator[str]:
        try:
            yield first
            while True:
                try:
                    notice = inbox.get(timeout=keepalive_seconds)
                except queue.Empty:
                    yield KEEPALIVE
                    continue
                params = wanted(notice)
                if params is not None:
                    yield event(notification(notice.method, params))
        finally:
            hub.unsubscribe(inbox)

    return stream()


class LogLine:
    """notifications/message for one request, at or above the level it asked for."""

    def __init__(self, minimum: str, sink: Callable[[dict[str, Any]], None]) -> None:
        self.minimum = LOG_LEVELS.index(minimum)
        self.sink = sink

    def __call__(self, level: str, data: Any) -> None:
        if level in LOG_LEVELS and LOG_LEVELS.index(level) >= self.minimum:
            self.sink(notification("notifications/message", {"level": level, "logger": "drawbridge", "data": data}))


class StreamedRequest:
    """One request's work run beside its SSE response: notifications as they come, then the response.

    `send` is the sink for notifications; `start(work)` runs the work on its own greenlet and
    returns the stream. Given an event log (legacy era), every event is logged with an id, so a
    client that drops the stream can resume it with Last-Event-ID; without one (modern era) the
    events live only in this process. `on_disconnect` runs if the client leaves before the end;
    `reference` (the request id) is all a client hears of a fault of ours.
    """

    def __init__(
        self,
        app: Flask,
        message_id: MessageId,
        keepalive_seconds: float,
        on_disconnect: Callable[[], None],
        reference: str,
        log: EventLog | None = None,
        session_id: str = "",
    ) -> None:
        self.app = app
        self.message_id = message_id
        self.reference = reference
        self.keepalive_seconds = keepalive_seconds
        self.on_disconnect = on_disconnect
        self.log = log
        self.stream_id = new_stream_id()
        self._closing = threading.Event()
        self._outbox: queue.Queue[tuple[dict[str, Any], bool]] = queue.Queue()
        if log is not None:
            log.open(self.stream_id, session_id)

    def send(self, message: dict[str, Any]) -> None:
        self._put(message, final=False)

    def close_stream(self) -> None:
        """End this HTTP response now; the work goes on and a resume picks up its events."""
        if self.log is not None:
            self._closing.set()

    def start(self, work: Callable[[], dict[str, Any]]) -> Iterator[str]:
        # Tracked: the work may outlive this response (a legacy client resumes elsewhere), and a
        # stopping worker waits for it.
        run = graceful_stop.tracked(self._run)
        threading.Thread(target=run, args=(work,), name=f"mcp-request-{self.message_id}", daemon=True).start()
        if self.log is not None:
            # The priming event gives the client an id to resume from before anything else arrives.
            priming = f"id: {event_id(self.stream_id, 0)}\nretry: {RETRY_MILLISECONDS}\ndata:\n\n"
            logged = replay(self.log, self.stream_id, 0, self.keepalive_seconds, self._closing)
            return self._watch_disconnect(_prefixed(priming, logged))
        return self._watch_disconnect(self._from_memory())

    def _put(self, message: dict[str, Any], final: bool) -> None:
        if self.log is None:
            self._outbox.put((message, final))
            return
        self.log.append(self.stream_id, message, final)

    def _run(self, work: Callable[[], dict[str, Any]]) -> None:
        with self.app.app_context():
            try:
                self._put(jsonrpc.success(self.message_id, work()), final=True)
            except Cancelled:
                self._put({}, final=True)  # a cancelled request gets no response
            except JsonRpcError as error:
                error_answered(error.code, error.http_status, error.logged(), self.reference)
                self._put(jsonrpc.failure(error, self.reference, self.message_id), final=True)
            except Exception:
                logger.exception("streamed_request_failed")
                self._put(jsonrpc.failure(InternalError("streamed request failed"), self.reference, self.message_id), final=True)

    def _from_memory(self) -> Iterator[str]:
        while True:
            try:
                message, final = self._outbox.get(timeout=self.keepalive_seconds)
            except queue.Empty:
                yield KEEPALIVE
                continue
            if message:
                yield event(message)
            if final:
                return

    def _watch_disconnect(self, stream: Iterator[str]) -> Iterator[str]:
        finished = False
        try:
            yield from stream
            finished = True
        finally:
            if not finished:
                self.on_disconnect()


def _prefixed(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def replay(
    log: EventLog, stream_id: str, after: int, keepalive_seconds: float, stop: threading.Event | None = None
) -> Iterator[str]:
    """A logged stream from just after `after` to its end (or until `stop`), with keep-alives. It
    reads the log when woken by an append, so it lives as long as its client however long the
    silence, holding no Redis connection while it waits."""
    with log.watch(stream_id) as appended:
        appended.set()  # what is logged already comes first
        keepalive_due = time.monotonic() + keepalive_seconds
        while stop is None or not stop.is_set():
            wait = keepalive_due - time.monotonic()
            if appended.wait(max(0.0, min(wait, STOP_POLL_SECONDS) if stop is not None else wait)):
                appended.clear()  # before reading: an append during the read wakes us again
                events = log.read(stream_id, after)
                for logged in events:
                    after = logged.seq
                    if logged.message:
                        yield event(logged.message, event_id(stream_id, logged.seq))
                    if logged.final:
                        return
                if events:
                    keepalive_due = time.monotonic() + keepalive_seconds
                    continue
            # gevent's timers may fire a little before time.monotonic() says they are due.
            if time.monotonic() >= keepalive_due - TIMER_SLACK_SECONDS:
                keepalive_due = time.monotonic() + keepalive_seconds
                yield KEEPALIVE
