"""gunicorn worker classes the deploy configurations name (deploy/gunicorn_*.py)."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import logging
import socket
import struct
import termios
import time
from collections.abc import Callable, Iterator
from http import HTTPStatus
from types import FrameType, TracebackType
from typing import Any

import gevent
from gevent.pywsgi import LoggingLogAdapter
from gunicorn.workers.ggevent import GeventPyWSGIWorker, PyWSGIHandler, PyWSGIServer

from serving import graceful_stop, request_head, request_stream

logger = logging.getLogger(__name__)

# The arbiter SIGKILLs a worker graceful_timeout after its SIGTERM: the calls in flight get that
# long less this margin, which leaves time to cut off the rest and flush what they queued.
STOP_MARGIN_SECONDS = 3.0
DRAIN_SECONDS = 1.0


class PyWSGIWorker(GeventPyWSGIWorker):
    """gevent's own HTTP server (gevent.pywsgi) in a gunicorn worker. It serves a token or a tool
    call for less CPU than gunicorn's `gevent` worker, whose HTTP parser is gunicorn's own, and
    holds an open SSE stream for a few KiB more (figures in bench/README.md).

    gevent's server has no idle timeout of its own: here gunicorn's `keepalive` setting bounds every
    read and write, so a connection that sends nothing for that long, between requests or in the
    middle of one, is closed; and it bounds the request line, the headers and the body each as a
    whole (gunicorn's worker bounds the head), so a client trickling a byte at a time cannot hold
    one for longer either.

    On SIGTERM (the arbiter's graceful stop, or its own restart of this worker) the worker stops
    accepting connections, closes its idle keep-alive connections, ends its open streams with a
    retry hint, lets the calls in flight finish within graceful_timeout less STOP_MARGIN_SECONDS,
    cuts off what is left, and flushes the rows those calls queued before it exits."""

    def init_process(self) -> None:
        # Per worker, from its config: types-gunicorn has both as class variables, and server_class
        # as a class, where gunicorn only calls it.
        self.wsgi_handler = handler_class(idle_timeout=self.cfg.keepalive)  # type: ignore[misc]
        self.servers: list[Server] = []
        self.server_class = self._server  # type: ignore[misc, assignment]  # called once per listening socket
        self.stopping: gevent.Greenlet | None = None
        super().init_process()

    def _server(self, *args: Any, **kwargs: Any) -> Server:
        server = Server(*args, **kwargs)
        self.servers.append(server)
        return server

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if self.stopping is None:  # a signal handler must not block: the stop runs in a greenlet
            self.stopping = gevent.spawn(self.stop_gracefully)

    def run(self) -> None:
        super().run()  # returns once no connection is left, or after gunicorn's own timeout
        if self.stopping is not None:
            self.stopping.join()

    def stop_gracefully(self) -> None:
        """The steps of the stop, in order; gunicorn's `run` exits once no connection is left."""
        bound_seconds = max(self.cfg.graceful_timeout - STOP_MARGIN_SECONDS, 0)
        deadline = time.monotonic() + bound_seconds
        for server in self.servers:
            server.close()  # the listening socket: new connections go to other workers
        graceful_stop.begin()  # streams end with their retry hint
        for server in self.servers:
            _close_idle_connections(server)
        graceful_stop.wait(lambda: self._busy() or graceful_stop.work_in_flight(), deadline)
        if self._busy():
            logger.warning("graceful_stop_timed_out", extra={"after_seconds": bound_seconds})
            for server in self.servers:
                if server.pool is not None:
                    server.pool.kill(block=True, timeout=1)
        graceful_stop.drain(DRAIN_SECONDS)  # rows the cut-off calls queued are committed

    def _busy(self) -> bool:
        # gunicorn gives each server a pool; one without would spawn unbounded, counted by nobody.
        return any(server.pool is not None and server.pool.free_count() != server.pool.size for server in self.servers)


class Server(PyWSGIServer):
    """gunicorn's server for gevent's handler, knowing its handlers waiting for a next request.
    What gevent says of a request it could not read (a client's fault) is an INFO line of the log,
    JSON like every other, rather than text on stderr."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("error_log", LoggingLogAdapter(logging.getLogger("gevent.pywsgi"), logging.INFO))
        super().__init__(*args, **kwargs)
        self.idle_handlers: set[PyWSGIHandler] = set()


def _close_idle_connections(server: Server) -> None:
    """Close the keep-alive connections waiting for a next request (their clients open a new one,
    elsewhere), except where the request has already arrived: that one is served first."""
    for handler in list(server.idle_handlers):
        with contextlib.suppress(OSError):  # the client may have closed it meanwhile
            if not _unread_bytes(handler.socket):
                handler.socket.shutdown(socket.SHUT_RDWR)


def _unread_bytes(connection: socket.socket) -> int:
    """Bytes received on `connection` and not yet read (FIONREAD), without blocking."""
    return struct.unpack("i", fcntl.ioctl(connection.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]


class RequestHeadTimeout(ValueError):
    """The headers did not arrive within keepalive seconds (gevent answers a ValueError with 400)."""


@functools.cache
def refusal(status: int) -> bytes:
    """The whole response to a request refused before the app saw it, closing the connection as
    gevent's own 400 does."""
    phrase = HTTPStatus(status).phrase
    return (
        f"HTTP/1.1 {status} {phrase}\r\nConnection: close\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {len(phrase)}\r\n\r\n{phrase}"
    ).encode("latin-1")


def handler_class(idle_timeout: float) -> type[PyWSGIHandler]:
    """gunicorn's handler for gevent's server, with a socket timeout, our own request reader
    (serving/request_head.py, serving/request_stream.py), connections closed where reusing them would
    be unsafe, and no access-log work while the access log is off."""

    class Handler(PyWSGIHandler):
        head: request_head.RequestHead
        # What had arrived after the request line when it was read, and whether the body was in it.
        received_after_line: bytes
        body_received: bool
        server: Server
        wsgi_input: request_stream.BodyInput
        # Our reader's headers (serving/request_head.py), read through _headers below, not gevent's.
        headers: request_head.RequestHeaders  # type: ignore[assignment]
        # gevent sets None without a Content-Length; types-gevent says int.
        content_length: int | None  # type: ignore[assignment]

        def handle(self) -> None:
            self.socket.settimeout(idle_timeout or None)
            super().handle()

        def read_requestline(self) -> str:
            idle = self.server.idle_handlers  # a stopping worker closes these connections
            idle.add(self)
            # This timer bounds the wait and the whole line: the socket's own would be a second one.
            self.socket.settimeout(None)
            try:
                with gevent.Timeout(idle_timeout or None, socket.timeout("request line")):  # closes quietly
                    # The wait for the request, then what arrived of it: the line is read from
                    # there, and the rest of the head usually with it (read_request).
                    received = self.rfile.peek()
                    line: str = super().read_requestline()
            finally:
                idle.discard(self)
                self.socket.settimeout(idle_timeout or None)
            # Empty when the line outgrew what had arrived (the rest of the request is still to come).
            self.received_after_line = received[len(line) :]
            return line

        def read_request(self, raw_requestline: str) -> bool:  # type: ignore[override]  # gevent's returns True too
            self.requestline = raw_requestline.rstrip()
            received = self.received_after_line
            found = request_head.read_received_request(raw_requestline, received)
            if found is not None:  # the whole head had arrived: read from the buffer, no wait, no timer
                head, head_length = found
                self.rfile.read(head_length)
                self.body_received = not head.chunked and len(received) - head_length >= (head.content_length or 0)
            else:
                with gevent.Timeout(idle_timeout or None, RequestHeadTimeout(f"headers unfinished after {idle_timeout} s")):
                    head = request_head.read_request(raw_requestline, self.rfile)
                self.body_received = False
            self.head = head
            self.command, self.path, self.request_version = head.method, head.target, head.version
            self.headers = head.headers
            self.content_length = head.content_length
            self.close_connection = not head.keep_alive
            return True

        def _handle_client_error(self, error: BaseException) -> tuple[str, bytes]:
            if not isinstance(error, request_head.RequestHeadError):
                return super()._handle_client_error(error)  # type: ignore[misc]  # gevent's own, private: not in types-gevent
            logger.info("request_refused", extra={"status": error.status, "reason": error.reason})
            return str(error.status), refusal(error.status)

        def get_environ(self) -> dict[str, object]:
            environ = super().get_environ()
            # RFC 9110 section 10.1.1: "A server that receives a 100-continue expectation in an
            # HTTP/1.0 request MUST ignore that expectation."
            expects_continue = self.request_version == "HTTP/1.1" and environ.get("HTTP_EXPECT", "").lower() == "100-continue"
            self.wsgi_input = environ["wsgi.input"] = request_stream.BodyInput(
                self.rfile,
                self.content_length,
                socket=self.socket if expects_continue else None,
                chunked_input=self.head.chunked,
                # A body that arrived with the head is read from the buffer: nothing to time.
                timeout_seconds=None if self.body_received else idle_timeout or None,
            )
            return environ

        def _headers(self) -> Iterator[tuple[str, str]]:
            return self.headers.environ_items()

        def start_response(
            self,
            status: str,
            headers: list[tuple[str, str]],
            exc_info: tuple[type[BaseException], BaseException, TracebackType] | tuple[None, None, None] | None = None,
        ) -> Callable[[bytes], None]:
            write = super().start_response(status, headers, exc_info)
            if not self.wsgi_input.complete:
                # A final response before the whole body (a 413, a 401, an unanswered
                # `Expect: 100-continue`): RFC 9110 section 10.1.1 says such a server "SHOULD
                # indicate whether it intends to close the connection ... or continue reading the
                # request content". We close: what follows on the connection may be the rest of a
                # body nobody wants, or, if the client never sent it, the next request.
                # gevent keeps them as latin-1 bytes once start_response has run; types-gevent says str.
                self.response_headers = [(name, value) for name, value in self.response_headers or () if name.lower() != b"connection"]
                self.response_headers.append((b"Connection", b"close"))  # type: ignore[arg-type]
                self.close_connection = True
            return write

        def handle_one_response(self) -> None:
            super().handle_one_response()
            # Close rather than read the next request when: the body was not read to its end
            # (malformed, late, or refused: the rest of it must not be read as a request); the
            # worker is stopping (as gunicorn's worker does); or keepalive is 0, gunicorn's "one
            # request per connection".
            if not self.wsgi_input.complete or self.server.closed or not idle_timeout:
                self.close_connection = True

        def handle_error(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
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
            if self.server.log.access_log_enabled:  # type: ignore[attr-defined]  # gunicorn's logger here, not the stubs' stream
                super().log_request()

    return Handler
