"""The 2024-11-05 HTTP+SSE transport, for the oldest clients: GET /sse opens the session's stream,
whose first event names the endpoint; each POST /messages?session_id= is answered on that stream,
and so are the updates of the resources the session subscribed to."""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import redis
from flask import Blueprint, Flask, Response, current_app, request, url_for

from mcp_resource import jsonrpc
from mcp_resource.auth import Principal
from mcp_resource.errors import InternalError, JsonRpcError, SessionNotFound, Unavailable
from mcp_resource.guardrails import streams, unavailable
from mcp_resource.jsonrpc import Message
from mcp_resource.notifications import RESOURCES_UPDATED, Notice
from mcp_resource.protocol import context, eras, pipeline
from mcp_resource.protocol.context import Context
from mcp_resource.services import services
from mcp_resource.transport import calls, sse
from mcp_resource.transport.access import Reply, answer_message, authenticate, check_origin
from mcp_resource.transport.legacy.events import EventLog, event_id, parse_event_id
from mcp_resource.transport.legacy.sessions import SessionStore, why_not_found
from serving import graceful_stop
from shared.logging import error_answered, failure_detail

logger = logging.getLogger(__name__)
VERSION = "2024-11-05"
# A call's answer is appended to its session's log once, retried this long if Redis is away.
APPEND_RETRY_SECONDS = 5.0
APPEND_RETRY_INTERVAL_SECONDS = 0.25
# Put in a forwarder's inbox when its stream closes: no notification has an empty method.
_STREAM_CLOSED = Notice("")

_in_flight: Counter[str] = Counter()  # this worker's calls still running, by session

bp = Blueprint("legacy_sse", __name__)
bp.before_request(check_origin)


@bp.get("/sse")
def open_stream() -> Response:
    """The session lives as long as its stream: ended when the stream closes, and kept alive only
    by the stream's renewals, so it lapses with them if the stream's worker dies. A stream its
    worker ends while stopping first delivers the answers of its calls in flight here."""
    principal = authenticate()
    lease = streams.hold(principal)
    sessions: SessionStore = services().sessions
    idle_seconds = math.ceil(lease.lease_seconds)
    try:
        session = sessions.create(principal.client_id, principal.subject, VERSION, idle_seconds)
    except BaseException:  # over the session cap, or Redis away: the stream slot is not held
        lease.release()
        raise
    lease.keep_alive(session.session_id, idle_seconds)
    log: EventLog = services().events
    log.open(session.session_id, session.session_id)
    stop_forwarding = _forward_resource_updates(session.session_id, log)
    endpoint = url_for("legacy_sse.post_message", session_id=session.session_id)
    keepalive = current_app.config["SETTINGS"].sse_keepalive_seconds

    def stream() -> Iterator[str]:
        yield f"event: endpoint\ndata: {endpoint}\n\n"
        sent = 0
        try:
            for chunk in sse.replay(log, session.session_id, 0, keepalive):  # never ends: no final event
                sent = _seq(chunk, sent)
                yield chunk
        except graceful_stop.StreamEnd:
            answers = _answers_in_flight(log, session.session_id, sent)
            if answers:
                yield answers

    subscriptions = services().subscriptions

    def close() -> None:
        stop_forwarding()
        sessions.end(session.session_id)
        subscriptions.end(session.session_id)

    return sse.held_response(lease, stream(), on_close=close)


def _forward_resource_updates(session_id: str, log: EventLog) -> Callable[[], None]:
    """The session's one stream is its log: each resources/updated the session subscribed to is
    appended there, from this worker's notices, until the returned function is called."""
    hub, subscriptions = services().hub, services().subscriptions
    services().resource_updates.listen()  # a change after the stream opened is heard
    inbox = hub.subscribe()

    def forward() -> None:
        try:
            while (notice := inbox.get()) is not _STREAM_CLOSED:
                if notice.method == RESOURCES_UPDATED and subscriptions.has(session_id, notice.uri or ""):
                    try:
                        log.append(session_id, sse.notification(RESOURCES_UPDATED, {"uri": notice.uri}), final=False)
                    except redis.RedisError:  # this update is lost; the stream and the next ones go on
                        logger.warning("resource_update_not_delivered", extra={"uri": notice.uri}, exc_info=True)
        finally:
            hub.unsubscribe(inbox)

    threading.Thread(target=forward, name=f"resource-updates-{session_id[:8]}", daemon=True).start()
    return lambda: inbox.put(_STREAM_CLOSED)


def _seq(chunk: str, last: int) -> int:
    """The log position of an event chunk (`id: <stream>.<seq>` first), else `last` (a keep-alive)."""
    if not chunk.startswith("id: "):
        return last
    parsed = parse_event_id(chunk[4 : chunk.index("\n")])
    return parsed[1] if parsed is not None else last


def _answers_in_flight(log: EventLog, session_id: str, after: int) -> str:
    """The worker is stopping: wait for the session's calls running here (the worker cuts them off
    at its stop deadline), then everything logged after `after`, as one chunk before the retry hint."""
    graceful_stop.wait(lambda: _in_flight[session_id] > 0, math.inf)
    return "".join(sse.event(e.message, event_id(session_id, e.seq)) for e in log.read(session_id, after) if e.message)


@bp.post("/messages")
def post_message() -> Reply:
    return answer_message(_accept)


def _accept(principal: Principal, message: Message) -> Callable[[], Response]:
    """202 for a message to the caller's live session; a request is then answered on its stream."""
    session_id = request.args.get("session_id", "")
    ctx = context.for_request(principal, eras.LEGACY, VERSION, session_id=session_id)
    entry = pipeline.entry_of(message)
    with pipeline.outages_audited(ctx, entry, message.params) if entry is not None else contextlib.nullcontext():
        # Only the stream renews the session: a message must not keep alive a session nobody reads.
        session = services().sessions.get(session_id, idle_seconds=None)
    if session is None or not session.belongs_to(principal.client_id, principal.subject):
        raise SessionNotFound("Session not found, or no stream is reading it any more; open GET /sse again.", detail=why_not_found(session))
    if not message.is_request:
        return lambda: Response(status=202)
    ctx.log_level = session.log_level
    return partial(_answer_on_stream, ctx, message)


def _answer_on_stream(ctx: Context, message: Message) -> Response:
    """A guarded call (tools/call, resources/read...) is admitted here, so its refusals (403
    step-up, 429, 503) answer the POST itself; the request then runs beside it and its answer, after
    its progress and log messages, goes on the session's stream."""
    log: EventLog = services().events
    work, admitted = calls.admitted_work(ctx, message)
    token = calls.progress_token(message.params)
    if admitted is not None and token is not None:
        ctx.progress = sse.ProgressLine(token, lambda m: log.append(ctx.session_id or "", m, final=False))
    if admitted is not None and ctx.log_level is not None:
        ctx.log_sink = sse.LogLine(ctx.log_level, lambda m: log.append(ctx.session_id or "", m, final=False))
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    _in_flight[ctx.session_id or ""] += 1
    threading.Thread(target=graceful_stop.tracked(_answer), args=(app, ctx, message, work, log), daemon=True).start()
    return Response(status=202)


def _answer(app: Flask, ctx: Context, message: Message, work: Callable[[], dict[str, Any]], log: EventLog) -> None:
    """Run the request and put its response on the session's stream (tracked: a stopping worker
    waits for it, and so does the session's stream)."""
    session_id = ctx.session_id or ""
    try:
        with app.app_context():
            try:
                answer = jsonrpc.success(message.id, work())  # type: ignore[arg-type]
            except JsonRpcError as error:
                error_answered(error.code, error.http_status, error.logged(), ctx.request_id)
                answer = jsonrpc.failure(error, ctx.request_id, message.id)
            except Exception as failure:
                answer = jsonrpc.failure(_failure(failure, ctx.request_id), ctx.request_id, message.id)
            _append(log, session_id, answer)
    finally:
        _in_flight[session_id] -= 1
        if _in_flight[session_id] <= 0:
            del _in_flight[session_id]


def _failure(failure: Exception, request_id: str) -> JsonRpcError:
    """An outage says so and that a retry may succeed (its refusal is audited or counted already;
    what the service said is logged); anything else is a fault of ours, with a reference to its
    logged traceback."""
    if unavailable.reason(failure) is not None:
        refusal = Unavailable("A backing service is unavailable, so the call is not acknowledged; retry shortly.", detail=failure_detail(failure))
        error_answered(refusal.code, refusal.http_status, refusal.logged(), request_id)
        return refusal
    logger.exception("legacy_sse_request_failed")
    return InternalError("legacy SSE request failed")


def _append(log: EventLog, session_id: str, answer: dict[str, Any]) -> None:
    """The answer on the session's log, retried within APPEND_RETRY_SECONDS while Redis is away."""
    deadline = time.monotonic() + APPEND_RETRY_SECONDS
    while True:
        try:
            log.append(session_id, answer, final=False)
            return
        except redis.RedisError as failure:
            if time.monotonic() >= deadline:
                logger.error("legacy_sse_answer_lost", extra={"error": type(failure).__name__, "detail": str(failure)})
                return
            time.sleep(APPEND_RETRY_INTERVAL_SECONDS)
