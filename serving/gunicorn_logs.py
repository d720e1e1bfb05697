"""gunicorn's own log lines (its error log, and its access log when on) as the same JSON lines the
apps write (shared/log_lines.py), tagged with the service (the configuration's `proc_name`), so a
log holds nothing but JSON objects. Loaded by gunicorn's master with the configuration: nothing here
imports Flask."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

from gunicorn import glogging

from shared.log_lines import JsonFormatter, ServiceFilter

REQUEST_ID_HEADER = "x-request-id"


class JsonLogger(glogging.Logger):
    """gunicorn's logger (`logger_class`) with a JSON formatter on each of its handlers, and one
    access line per request made of fields instead of gunicorn's `access_log_format`."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())
                handler.addFilter(ServiceFilter(cfg.proc_name))
        # Until the app configures logging (shared/logging.py, in each worker), the root logger's
        # records, Python's warnings among them (gevent's at the worker's start), are JSON too.
        logging.captureWarnings(True)
        root = logging.getLogger()
        if not root.handlers:
            handler = logging.StreamHandler()
            handler.setFormatter(JsonFormatter())
            handler.addFilter(ServiceFilter(cfg.proc_name))
            root.addHandler(handler)

    def access(self, resp: Any, req: Any, environ: MutableMapping[str, Any], request_time: Any) -> None:
        """Method, path (never the query: it may carry a session id or a code), status, bytes
        sent, duration, the client's address (as the app saw it: behind a trusted proxy, the
        forwarded one), its User-Agent and the request id the app answered with."""
        if not self.access_log_enabled:
            return
        status = str(resp.status)  # "200 OK"; or gevent's "socket error: ..." for a client gone before the answer
        code = status.partition(" ")[0]
        self.access_log.info(
            "request",
            extra={
                "method": environ.get("REQUEST_METHOD"),
                "path": environ.get("PATH_INFO"),
                "status": int(code) if code.isdigit() else status,
                "response_bytes": resp.sent,
                "duration_ms": round(request_time.total_seconds() * 1000, 3),
                "remote_address": environ.get("REMOTE_ADDR"),
                "user_agent": environ.get("HTTP_USER_AGENT"),
                "request_id": _header(resp.headers, REQUEST_ID_HEADER),
            },
        )


def _header(headers: Any, name: str) -> str | None:
    """A response header's value; gevent hands them over as latin-1 bytes once sent."""
    for key, value in headers or ():
        key = key.decode("latin-1") if isinstance(key, bytes) else key
        if key.lower() == name:
            return value.decode("latin-1") if isinstance(value, bytes) else value
    return None

