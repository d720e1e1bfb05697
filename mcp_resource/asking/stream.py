"""Asking the client on the call's SSE stream (2025-06-18, 2025-11-25): a JSON-RPC request of ours
goes out on the stream, and the client POSTs its response to /mcp, to whichever worker or instance.

The response is kept in the event log under a stream named by the session and our request's id
(`answer_stream`), opened only while a tool waits for it, so only the session that was asked can
answer, and only once; its append wakes the waiting tool wherever it runs (wakeups.py, one Redis
channel every worker already hears). The wait ends with the answer, the call's cancellation, or
DRAWBRIDGE_CLIENT_ANSWER_TIMEOUT_SECONDS, after which the client is told to stop asking.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from mcp_resource import jsonrpc
from mcp_resource.asking import Asker, NoAnswer, missing_capability_text
from mcp_resource.errors import Cancelled, ToolError
from mcp_resource.jsonrpc import Message
from mcp_resource.transport import sse
from mcp_resource.transport.legacy.events import EventLog

# How often a waiting tool looks whether its call was cancelled (on any worker).
CANCEL_POLL_SECONDS = 1.0
# The longest error text of a client's refusal that the model is shown.
REFUSAL_TEXT_CHARS = 200


def answer_stream(session_id: str, request_id: str) -> str:
    return f"{session_id}.answer.{request_id}"


def deliver(log: EventLog, session_id: str, message: Message) -> None:
    """A response the session's client POSTed: to the tool waiting for it, if one asked this session
    with this id and has no answer yet; anything else is dropped, as a stray response may be."""
    stream_id = answer_stream(session_id, str(message.id))
    if isinstance(message.id, str) and log.owner(stream_id) == session_id and not log.read(stream_id, 0):
        log.append(stream_id, message.answer or {}, final=True)


class StreamAsker(Asker):
    def __init__(
        self,
        client_capabilities: dict[str, Any],
        send: Callable[[dict[str, Any]], None],
        log: EventLog,
        session_id: str,
        cancelled: threading.Event,
        timeout_seconds: float,
    ) -> None:
        super().__init__(client_capabilities)
        self.send, self.log, self.session_id = send, log, session_id
        self.cancelled, self.timeout_seconds = cancelled, timeout_seconds

    def undeclared(self, capabilities: list[str]) -> None:
        # The handshake eras define no error for this: the tool's result says it.
        raise ToolError(missing_capability_text(capabilities))

    def answers(self, requests: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        ids = {key: f"drawbridge-{secrets.token_urlsafe(12)}" for key in requests}
        for key, request in requests.items():
            self.log.open(answer_stream(self.session_id, ids[key]), self.session_id)
            self.send({"jsonrpc": jsonrpc.VERSION, "id": ids[key], "method": request["method"], "params": request.get("params", {})})
        deadline = time.monotonic() + self.timeout_seconds
        return {key: self._result(request["method"], ids[key], deadline) for key, request in requests.items()}

    def _result(self, method: str, request_id: str, deadline: float) -> dict[str, Any]:
        answer = self._wait(request_id, deadline)
        if answer is None:
            self.send(sse.notification("notifications/cancelled", {"requestId": request_id, "reason": "timed out"}))
            raise NoAnswer(f"The client did not answer the {method} request within {self.timeout_seconds:g} seconds.")
        if "error" in answer:
            error = answer["error"]
            text = str(error.get("message", "")) if isinstance(error, dict) else ""
            raise ToolError(f"The client refused the {method} request: {text[:REFUSAL_TEXT_CHARS] or 'no reason given'}.")
        result = answer.get("result")
        if not isinstance(result, dict):
            raise ToolError(f"The client's answer to the {method} request was not an object.")
        return result

    def _wait(self, request_id: str, deadline: float) -> dict[str, Any] | None:
        """The client's response (its `result` or `error` member), or None at the deadline."""
        stream_id = answer_stream(self.session_id, request_id)
        with self.log.watch(stream_id) as appended:
            appended.set()  # an answer that came before the watch is read first
            while True:
                if appended.wait(max(0.0, min(deadline - time.monotonic(), CANCEL_POLL_SECONDS))):
                    appended.clear()
                    events = self.log.read(stream_id, 0)
                    if events:
                        return events[0].message
                if self.cancelled.is_set():
                    raise Cancelled(request_id)
                if time.monotonic() >= deadline:
                    return None
