"""JSON log lines (shared/log_lines.py) carrying the service name and the request id (X-Request-Id
in and out), and the one line each service writes for an error it answers with."""

from __future__ import annotations

import logging
import re
import secrets

from flask import Flask, Response, g, has_request_context, request

from shared.log_lines import JsonFormatter, ServiceFilter

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-Id"
_REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# How much of a value a caller sent (a header, a token's header field) a detail repeats.
QUOTED_MAX_CHARS = 80


class ContextFilter(ServiceFilter):
    """Adds the service name and, inside a request, its id and client id to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        super().filter(record)
        if has_request_context():
            record.request_id = g.get("request_id")
            client_id = g.get("client_id")
            if client_id:
                record.client_id = client_id
        return True


def configure(service: str, level: str) -> None:
    """Send every logger's records through one JSON handler on the root logger."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def init_app(app: Flask) -> None:
    """Give each request an id (the caller's X-Request-Id if sane, else 128 random bits) and echo it."""

    @app.before_request
    def assign_request_id() -> None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _REQUEST_ID_PATTERN.match(incoming) else secrets.token_hex(16)

    @app.after_request
    def echo_request_id(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        return response


def error_answered(error: str | int, status: int, detail: str | None, request_id: str | None = None) -> None:
    """The request's log line for the error it is answered with: the code the client got, the
    status, and `detail`, what went wrong in words the client is never given (node-oidc-provider's
    `error_detail`). Written only when there is a detail; a client's mistake at INFO, ours (5xx) at
    WARNING. `request_id` for an answer written outside the request (a stream's thread); inside it,
    the request's own id, method and path are added."""
    if detail is None:
        return
    line: dict[str, object] = {"error": error, "status": status, "detail": detail}
    if has_request_context():
        line.update(method=request.method, path=request.path)
    elif request_id is not None:
        line["request_id"] = request_id
    logger.log(logging.WARNING if status >= 500 else logging.INFO, "error_answered", extra=line)


def failure_detail(failure: BaseException) -> str:
    """A detail naming an exception and its cause: type and first line of each, so a database
    error's SQL and parameters stay out of the log."""
    described: list[str] = []
    current: BaseException | None = failure
    while current is not None and len(described) < 3:
        first_line = str(current).strip().partition("\n")[0]
        described.append(f"{type(current).__name__}: {first_line}" if first_line else type(current).__name__)
        current = current.__cause__
    return "; caused by ".join(described)


def quoted(value: object) -> str:
    """A value a caller sent, for a detail: its repr, cut to QUOTED_MAX_CHARS."""
    text = repr(value)
    return text if len(text) <= QUOTED_MAX_CHARS else text[:QUOTED_MAX_CHARS] + "..."
