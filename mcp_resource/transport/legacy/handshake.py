"""The handshake era on /mcp (2025-11-25, 2025-06-18, 2025-03-26): sessions, the GET stream, DELETE."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import nullcontext
from functools import partial
from typing import Any

from flask import Response, current_app, jsonify, request

from mcp_resource import asking, jsonrpc
from mcp_resource.asking import stream
from mcp_resource.auth import Principal
from mcp_resource.errors import InvalidRequest, SessionNotFound, UnsupportedProtocolVersion
from mcp_resource.guardrails import streams
from mcp_resource.jsonrpc import Message
from mcp_resource.notifications import RESOURCES_UPDATED, TOOLS_LIST_CHANGED, Notice
from mcp_resource.protocol import context, eras, pipeline
from mcp_resource.protocol.versions import DEFAULT_LEGACY_VERSION, HANDSHAKE_VERSIONS, SUPPORTED_VERSIONS
from mcp_resource.services import services
from mcp_resource.transport import calls, sse
from mcp_resource.transport.legacy.cancellation import CancelBoard
from mcp_resource.transport.legacy.events import parse_event_id
from mcp_resource.transport.legacy.sessions import IDLE_TIMEOUT_SECONDS, Session, why_not_found

SESSION_HEADER = "Mcp-Session-Id"
PROTOCOL_VERSION_HEADER = "MCP-Protocol-Version"


class SharedCancellation(threading.Event):
    """Set here, or by a notifications/cancelled that reached any worker."""

    def __init__(self, board: CancelBoard, session_id: str, message_id: str | int) -> None:
        super().__init__()
        self.board, self.session_id, self.message_id = board, session_id, message_id

    def is_set(self) -> bool:
        return super().is_set() or self.board.is_cancelled(self.session_id, self.message_id)


def accept(principal: Principal, message: Message) -> Callable[[], Response]:
    """The caller's session and the request's version header checked; how to answer it."""
    if message.method == "initialize" and message.is_request:
        return partial(initialize, principal, message)
    ctx = context.for_request(principal, eras.LEGACY, DEFAULT_LEGACY_VERSION, session_id=request.headers.get(SESSION_HEADER))
    # Redis away: the guarded call (tools/call, resources/read...) refused is audited.
    entry = pipeline.entry_of(message)
    with pipeline.outages_audited(ctx, entry, message.params) if entry is not None else nullcontext():
        session = current_session(principal)
    _check_version_header()
    if not message.is_request:
        return partial(_notification, session, message)
    ctx.protocol_version = session.protocol_version
    ctx.log_level = session.log_level
    ctx.client_capabilities = session.client_capabilities
    ctx.cancelled = SharedCancellation(services().cancellations, session.session_id, message.id)  # type: ignore[arg-type]
    # Before 2026-07-28 a dropped stream is not a cancellation: the work goes on, logged for a resume.
    log = services().events
    return partial(calls.respond, ctx, message, on_disconnect=lambda: None, log=log, session_id=session.session_id)


def _notification(session: Session, message: Message) -> Response:
    """A notification, or the client's response to a request of ours (its answer to a tool waiting
    on any worker: asking/stream.py)."""
    if message.answer is not None:
        stream.deliver(services().events, session.session_id, message)
    elif message.method == "notifications/cancelled":
        request_id = message.params.get("requestId")
        if isinstance(request_id, (str, int)) and not isinstance(request_id, bool):
            services().cancellations.cancel(session.session_id, request_id)
    return Response(status=202)


def initialize(principal: Principal, message: Message) -> Response:
    ctx = context.for_request(principal, eras.LEGACY, DEFAULT_LEGACY_VERSION)
    result = eras.LEGACY.dispatch(ctx, "initialize", message.params)
    session = services().sessions.create(
        principal.client_id,
        principal.subject,
        result["protocolVersion"],
        client_capabilities=asking.askable(message.params.get("capabilities")),
    )
    response = jsonify(jsonrpc.success(message.id, result))  # type: ignore[arg-type]
    response.headers[SESSION_HEADER] = session.session_id
    return response


def current_session(principal: Principal) -> Session:
    """The caller's own live session: 400 without an id, 404 for an unknown, ended or foreign one."""
    session_id = request.headers.get(SESSION_HEADER)
    if not session_id:
        raise InvalidRequest("Missing Mcp-Session-Id: send initialize first and echo the session id it returns.")
    session = services().sessions.get(session_id)
    # A session id is not a credential: one used with another client's or person's token is as
    # unknown as a made-up one.
    if session is None or not session.belongs_to(principal.client_id, principal.subject):
        raise SessionNotFound("Session not found; send initialize to start a new one.", detail=why_not_found(session))
    return session


def open_stream(principal: Principal) -> Response:
    """GET /mcp: resume a dropped response stream after Last-Event-ID, or the session's stream of
    server notifications (tools/list_changed, and resources/updated of the session's
    subscriptions), with keep-alive comments. Either holds one of the caller's stream slots and
    keeps the session alive while it is open."""
    session = current_session(principal)
    last_event_id = request.headers.get("Last-Event-ID")
    resumed = resumed_stream(session, last_event_id) if last_event_id else None
    lease = streams.hold(principal)
    lease.keep_alive(session.session_id, IDLE_TIMEOUT_SECONDS)
    keepalive_seconds = current_app.config["SETTINGS"].sse_keepalive_seconds
    if resumed is not None:
        stream_id, after = resumed
        return sse.held_response(lease, sse.replay(services().events, stream_id, after, keepalive_seconds))
    services().resource_updates.listen()  # a subscription's change after the stream opened is heard
    subscriptions = services().subscriptions  # asked while the stream runs, outside the app context

    def params_of(notice: Notice) -> dict[str, Any] | None:
        if notice.method == TOOLS_LIST_CHANGED:
            return {}
        if notice.method == RESOURCES_UPDATED and subscriptions.has(session.session_id, notice.uri or ""):
            return {"uri": notice.uri}
        return None

    stream = sse.server_notifications(
        services().hub,
        sse.KEEPALIVE,  # sends the headers now, so the client knows the stream is open
        keepalive_seconds,
        params_of,
    )
    return sse.held_response(lease, stream)


def resumed_stream(session: Session, last_event_id: str) -> tuple[str, int]:
    """The stream of this session that Last-Event-ID names and the event to resume after: a resume
    replays exactly that stream's later events, then continues it live."""
    parsed = parse_event_id(last_event_id)
    if parsed is None or services().events.owner(parsed[0]) != session.session_id:
        raise InvalidRequest("Last-Event-ID names no stream of this session.")
    return parsed


def end_session(principal: Principal) -> Response:
    session = current_session(principal)
    services().sessions.end(session.session_id)
    services().subscriptions.end(session.session_id)
    return Response(status=204)


def _check_version_header() -> None:
    version = request.headers.get(PROTOCOL_VERSION_HEADER)
    if version is not None and version not in HANDSHAKE_VERSIONS:
        raise UnsupportedProtocolVersion(
            f"Unsupported protocol version: {version}.",
            data={"supported": list(SUPPORTED_VERSIONS), "requested": version},
        )
