"""The 2024-11-05 HTTP+SSE transport, for the oldest clients: GET /sse opens the session's stream,
whose first event names the endpoint; each POST /messages?session_id= is answered on that stream."""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterator

from flask import Blueprint, Flask, Response, current_app, g, request, url_for

from mcp_resource import jsonrpc, protocol
from mcp_resource.errors import InternalError, JsonRpcError, SessionNotFound
from mcp_resource.events import EventLog
from mcp_resource.guardrails import streams
from mcp_resource.jsonrpc import Message
from mcp_resource.sessions import SessionStore
from mcp_resource.transport import calls, sse
from mcp_resource.transport.access import authenticate, check_origin
from shared.request_body import read_body

logger = logging.getLogger(__name__)
VERSION = "2024-11-05"

bp = Blueprint("legacy_sse", __name__)
bp.before_request(check_origin)


@bp.get("/sse")
def open_stream() -> Response:
    """The session lives as long as its stream: ended when the stream closes, and kept alive only
    by the stream's renewals, so it lapses with them if the stream's worker dies."""
    principal = authenticate()
    lease = streams.hold(principal)
    sessions: SessionStore = current_app.extensions["drawbridge.sessions"]
    idle_seconds = math.ceil(lease.lease_seconds)
    try:
        session = sessions.create(principal.client_id, principal.subject, VERSION, idle_seconds)
    except BaseException:  # over the session cap, or Redis away: the stream slot is not held
        lease.release()
        raise
    lease.keep_alive(session.session_id, idle_seconds)
    log: EventLog = current_app.extensions["drawbridge.events"]
    log.open(session.session_id, session.session_id)
    endpoint = url_for("legacy_sse.post_message", session_id=session.session_id)
    keepalive = current_app.config["SETTINGS"].sse_keepalive_seconds

    def stream() -> Iterator[str]:
        yield f"event: endpoint\ndata: {endpoint}\n\n"
        yield from sse.replay(log, session.session_id, 0, keepalive)  # never ends: no final event

    return sse.held_response(lease, stream(), on_close=lambda: sessions.end(session.session_id))


@bp.post("/messages")
def post_message() -> Response:
    principal = authenticate()
    # Only the stream renews the session: a message must not keep alive a session nobody reads.
    session = current_app.extensions["drawbridge.sessions"].get(request.args.get("session_id", ""), idle_seconds=None)
    if session is None or not session.belongs_to(principal.client_id, principal.subject):
        raise SessionNotFound("Session not found, or no stream is reading it any more; open GET /sse again.")
    message = jsonrpc.parse(read_body())
    if not message.is_request:
        return Response(status=202)
    ctx = protocol.Context(
        principal=principal,
        tools=current_app.extensions["drawbridge.tools"],
        request_id=g.request_id,
        era=protocol.LEGACY,
        protocol_version=session.protocol_version,
        ip=request.remote_addr,
        session_id=session.session_id,
    )
    log: EventLog = current_app.extensions["drawbridge.events"]
    if message.method == "tools/call":
        try:
            protocol.admit_tool_call(ctx, message.params)  # refusals (403 step-up, 429) answer the POST itself
        except JsonRpcError as error:
            error.message_id = message.id
            raise
        token = calls.progress_token(message.params)
        if token is not None:
            ctx.progress = sse.ProgressLine(token, lambda m: log.append(session.session_id, m, final=False))
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    threading.Thread(target=_answer, args=(app, ctx, message, log, session.session_id), daemon=True).start()
    return Response(status=202)


def _answer(app: Flask, ctx: protocol.Context, message: Message, log: EventLog, stream_id: str) -> None:
    """Run the request and put its response on the session's stream."""
    with app.app_context():
        try:
            answer = jsonrpc.success(message.id, protocol.dispatch(ctx, message.method or "", message.params))  # type: ignore[arg-type]
        except JsonRpcError as error:
            error.message_id = message.id
            answer = jsonrpc.failure(error)
        except Exception:
            logger.exception("legacy_sse_request_failed")
            failure = InternalError("Internal error.")
            failure.message_id = message.id
            answer = jsonrpc.failure(failure)
        log.append(stream_id, answer, final=False)
