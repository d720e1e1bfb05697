"""Server-sent events: formatting, keep-alive comments, and a request's work streamed beside it."""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

from flask import Flask, Response

from mcp_resource import jsonrpc
from mcp_resource.errors import Cancelled, InternalError, JsonRpcError, MessageId

logger = logging.getLogger(__name__)

KEEPALIVE = ": keep-alive\n\n"
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def event(message: dict[str, Any], event_id: str | None = None) -> str:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: message\ndata: {json.dumps(message, separators=(',', ':'))}\n\n"


def response(stream: Iterator[str]) -> Response:
    """A streamed text/event-stream response that proxies must not buffer."""
    return Response(stream, mimetype="text/event-stream", headers=HEADERS)


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


class StreamedRequest:
    """One request's work run beside its SSE response: notifications as they come, then the response.

    `send` is the sink for notifications; `start(work)` runs the work on its own greenlet and
    returns the stream. `on_disconnect` runs if the client leaves before the response.
    """

    def __init__(self, app: Flask, message_id: MessageId, keepalive_seconds: float, on_disconnect: Callable[[], None]) -> None:
        self.app = app
        self.message_id = message_id
        self.keepalive_seconds = keepalive_seconds
        self.on_disconnect = on_disconnect
        self._outbox: queue.Queue[tuple[str, dict[str, Any] | None]] = queue.Queue()

    def send(self, message: dict[str, Any]) -> None:
        self._outbox.put(("notification", message))

    def start(self, work: Callable[[], dict[str, Any]]) -> Iterator[str]:
        threading.Thread(target=self._run, args=(work,), name=f"mcp-request-{self.message_id}", daemon=True).start()
        return self._stream()

    def _run(self, work: Callable[[], dict[str, Any]]) -> None:
        with self.app.app_context():
            try:
                self._outbox.put(("final", jsonrpc.success(self.message_id, work())))
            except Cancelled:
                self._outbox.put(("cancelled", None))
            except JsonRpcError as error:
                error.message_id = self.message_id
                self._outbox.put(("final", jsonrpc.failure(error)))
            except Exception:
                logger.exception("streamed_request_failed")
                failure = InternalError("Internal error.")
                failure.message_id = self.message_id
                self._outbox.put(("final", jsonrpc.failure(failure)))

    def _stream(self) -> Iterator[str]:
        finished = False
        try:
            while True:
                try:
                    kind, payload = self._outbox.get(timeout=self.keepalive_seconds)
                except queue.Empty:
                    yield KEEPALIVE
                    continue
                if kind == "cancelled":
                    finished = True
                    return
                yield event(payload)  # type: ignore[arg-type]
                if kind == "final":
                    finished = True
                    return
        finally:
            if not finished:
                self.on_disconnect()
