"""gunicorn worker classes the deploy configurations name (deploy/gunicorn_*.py)."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from types import TracebackType
from typing import BinaryIO

import gevent
from gunicorn.workers.ggevent import GeventPyWSGIWorker, PyWSGIHandler

from shared import request_head

logger = logging.getLogger(__name__)


class PyWSGIWorker(GeventPyWSGIWorker):
    """gevent's own HTTP server (gevent.pywsgi) in a gunicorn worker. It serves a token or a tool
    call for less CPU than gunicorn's `gevent` worker, whose HTTP parser is gunicorn's own, and
    holds an open SSE stream for a few KiB more (figures in bench/README.md).

    gevent's server has no idle timeout of its own: here gunicorn's `keepalive` setting bounds every
    read and write, so a connection that sends nothing for that long, between requests or in the
    middle of one, is closed; and it bounds the request line and the headers each as a whole, as
    gunicorn's worker bounds the head, so a client trickling a byte at a time cannot hold one."""

    def init_process(self) -> None:
        self.wsgi_handler = handler_class(idle_timeout=self.cfg.keepalive)
        super().init_process()


class RequestHeadTimeout(ValueError):
    """The headers did not arrive within keepalive seconds (gevent answers a ValueError with 400)."""


def handler_class(idle_timeout: float) -> type[PyWSGIHandler]:
    """gunicorn's handler for gevent's server, with a socket timeout, our own header reader
    (shared/request_head.py), connections closed where reusing them would be unsafe, and no
    access-log work while the access log is off."""

    class Handler(PyWSGIHandler):
        def handle(self) -> None:
            self.socket.settimeout(idle_timeout or None)
            super().handle()

        def read_requestline(self) -> str:
            with gevent.Timeout(idle_timeout or None, socket.timeout("request line")):  # closes quietly
                return super().read_requestline()

        def read_request(self, raw_requestline: str) -> bool:
            with gevent.Timeout(idle_timeout or None, RequestHeadTimeout(f"headers unfinished after {idle_timeout} s")):
                return super().read_request(raw_requestline)

        def MessageClass(self, rfile: BinaryIO, *_: object) -> request_head.RequestHeaders:  # noqa: N802 (gevent's name)
            return request_head.read(rfile)

        def _headers(self) -> Iterator[tuple[str, str]]:
            return self.headers.environ_items()

        def handle_one_response(self) -> None:
            super().handle_one_response()
            # Close rather than read the next request when: gevent could not de-chunk the body (the
            # app answered 400, but the rest of that body must not be read as a request; gevent
            # closes only when the error reaches it itself); the worker is stopping (as gunicorn's
            # worker does); or keepalive is 0, gunicorn's "one request per connection".
            if self.wsgi_input._chunked_input_error or self.server.closed or not idle_timeout:
                self.close_connection = True

        def handle_error(self, kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
            # A write blocked for keepalive seconds: the client stopped reading (an SSE client
            # suspended, or its network gone). Not a fault of ours, so one log line and a close
            # instead of gevent's traceback on stderr.
            if isinstance(error, TimeoutError):
                logger.info("response_write_timed_out", extra={"after_seconds": idle_timeout})
                self.close_connection = True
                return
            super().handle_error(kind, error, trace)

        def log_request(self) -> None:
            # gunicorn's handler builds the access-log entry before it learns the log is off.
            if self.server.log.access_log_enabled:
                super().log_request()

    return Handler
