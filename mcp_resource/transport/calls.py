"""Answering one JSON-RPC request in either era: a JSON body, or an SSE stream with progress."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Response, current_app, jsonify

from mcp_resource import jsonrpc
from mcp_resource.asking import stream
from mcp_resource.jsonrpc import Message
from mcp_resource.protocol import pipeline
from mcp_resource.protocol.context import Context
from mcp_resource.protocol.versions import LOG_LEVEL_META, LOG_LEVELS
from mcp_resource.transport import negotiation, sse
from mcp_resource.transport.legacy.events import EventLog


def respond(
    ctx: Context,
    message: Message,
    on_disconnect: Callable[[], None],
    log: EventLog | None = None,
    session_id: str = "",
) -> Response:
    """A guarded call (tools/call, resources/read...) is admitted first, so a refusal (an unknown
    tool, a 403 step-up, a 429) is answered before any stream opens. Its answer is an SSE stream
    when it carries a progress token, its target streams or it asked for log messages, and the
    client takes event streams; every other answer is JSON. With an event log (legacy era) the stream can be resumed."""
    work, admitted = admitted_work(ctx, message)
    if admitted is None:
        return _json(message, work())
    token = progress_token(message.params)
    log_level = requested_log_level(message.params) if ctx.era.logs_on_request else ctx.log_level
    if not (token is not None or admitted.target.streams or log_level) or not negotiation.accepts_event_stream():
        return _json(message, work())
    streamed = sse.StreamedRequest(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        message.id,  # type: ignore[arg-type]
        current_app.config["SETTINGS"].sse_keepalive_seconds,
        on_disconnect,
        ctx.request_id,
        log,
        session_id,
    )
    if token is not None:
        ctx.progress = sse.ProgressLine(token, streamed.send)
    ctx.close_stream = streamed.close_stream
    if log_level is not None:
        ctx.log_sink = sse.LogLine(log_level, streamed.send)
    if ctx.era.asks_on_stream and log is not None:
        timeout = current_app.config["SETTINGS"].client_answer_timeout_seconds
        ctx.asker = stream.StreamAsker(ctx.client_capabilities, streamed.send, log, session_id, ctx.cancelled, timeout)
    return sse.response(streamed.start(work))


def admitted_work(ctx: Context, message: Message) -> tuple[Callable[[], dict[str, Any]], pipeline.Admitted | None]:
    """What answering the request runs; for a guarded method (tools/call, resources/read...), once
    the pipeline admitted it (steps 1-4, here, so that a refusal is answered at once), and the admission."""
    entry = pipeline.entry_of(message)
    if entry is None:
        return partial(ctx.era.dispatch, ctx, message.method or "", message.params), None
    admitted = pipeline.admission(ctx, entry, message.params)
    return partial(_run, ctx, admitted), admitted


def _run(ctx: Context, admitted: pipeline.Admitted) -> dict[str, Any]:
    return ctx.era.finish(pipeline.run(ctx, admitted))


def _json(message: Message, result: dict[str, Any]) -> Response:
    return jsonify(jsonrpc.success(message.id, result))  # type: ignore[arg-type]


def progress_token(params: dict[str, Any]) -> str | int | None:
    meta = params.get("_meta")
    token = meta.get("progressToken") if isinstance(meta, dict) else None
    return token if isinstance(token, (str, int)) and not isinstance(token, bool) else None


def requested_log_level(params: dict[str, Any]) -> str | None:
    """2026-07-28: log messages only for a request that asked for them in `_meta`."""
    meta = params.get("_meta")
    level = meta.get(LOG_LEVEL_META) if isinstance(meta, dict) else None
    return level if level in LOG_LEVELS else None
