"""Answering one JSON-RPC request in either era: a JSON body, or an SSE stream with progress."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, current_app, jsonify

from mcp_resource import jsonrpc, protocol
from mcp_resource.errors import JsonRpcError
from mcp_resource.events import EventLog
from mcp_resource.jsonrpc import Message
from mcp_resource.transport import negotiation, sse


def respond(
    ctx: protocol.Context,
    message: Message,
    on_disconnect: Callable[[], None],
    log: EventLog | None = None,
    session_id: str = "",
) -> Response:
    """SSE when a tools/call carries a progress token and the client takes event streams, else JSON.
    With an event log (legacy era) the stream can be resumed."""
    try:
        token = progress_token(message.params)
        # Refusals (an unknown tool, a 403 step-up) are answered before any stream opens.
        tool = protocol.admit_tool_call(ctx, message.params)[0] if message.method == "tools/call" else None
        log_level = requested_log_level(message.params) if ctx.era == protocol.MODERN else None
        if tool is not None and (token is not None or tool.streams or log_level) and negotiation.accepts_event_stream():
            streamed = sse.StreamedRequest(
                current_app._get_current_object(),  # type: ignore[attr-defined]
                message.id,  # type: ignore[arg-type]
                current_app.config["SETTINGS"].sse_keepalive_seconds,
                on_disconnect,
                log,
                session_id,
            )
            if token is not None:
                ctx.progress = sse.ProgressLine(token, streamed.send)
            ctx.close_stream = streamed.close_stream
            if log_level is not None:
                ctx.log_sink = sse.LogLine(log_level, streamed.send)
            return sse.response(streamed.start(lambda: protocol.dispatch(ctx, message.method or "", message.params)))
        result = protocol.dispatch(ctx, message.method or "", message.params)
    except JsonRpcError as error:
        error.message_id = message.id
        raise
    return jsonify(jsonrpc.success(message.id, result))  # type: ignore[arg-type]


def progress_token(params: dict[str, Any]) -> str | int | None:
    meta = params.get("_meta")
    token = meta.get("progressToken") if isinstance(meta, dict) else None
    return token if isinstance(token, (str, int)) and not isinstance(token, bool) else None


def requested_log_level(params: dict[str, Any]) -> str | None:
    """2026-07-28: log messages only for a request that asked for them in `_meta`."""
    meta = params.get("_meta")
    level = meta.get(protocol.LOG_LEVEL_META) if isinstance(meta, dict) else None
    return level if level in protocol.LOG_LEVELS else None
