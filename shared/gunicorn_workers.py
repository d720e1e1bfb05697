"""gunicorn worker classes the deploy configurations name (deploy/gunicorn_*.py)."""

from __future__ import annotations

from gunicorn.workers.ggevent import GeventPyWSGIWorker, PyWSGIHandler


class PyWSGIWorker(GeventPyWSGIWorker):
    """gevent's own HTTP server (gevent.pywsgi) in a gunicorn worker. In the benches it serves a
    token or a tool call for 5-18% less CPU than gunicorn's `gevent` worker, whose HTTP parser is
    gunicorn's own, for 3-5 KiB more memory per open SSE stream (bench/README.md).

    gevent's server has no idle timeout of its own: here gunicorn's `keepalive` setting bounds every
    read and write, so a connection that sends nothing for that long, between requests or in the
    middle of one, is closed."""

    def init_process(self) -> None:
        self.wsgi_handler = handler_class(idle_timeout=self.cfg.keepalive)
        super().init_process()


def handler_class(idle_timeout: float) -> type[PyWSGIHandler]:
    """gunicorn's handler for gevent's server, with a socket timeout, connections closed where
    reusing them would be unsafe, and no access-log work while the access log is off."""

    class Handler(PyWSGIHandler):
        def handle(self) -> None:
            self.socket.settimeout(idle_timeout or None)
            super().handle()

        def handle_one_response(self) -> None:
            super().handle_one_response()
            # Close rather than read the next request when: gevent could not de-chunk the body (the
            # app answered 400, but the rest of that body must not be read as a request; gevent
            # closes only when the error reaches it itself); the worker is stopping (as gunicorn's
            # worker does); or keepalive is 0, gunicorn's "one request per connection".
            if self.wsgi_input._chunked_input_error or self.server.closed or not idle_timeout:
                self.close_connection = True

        def log_request(self) -> None:
            # gunicorn's handler builds the access-log entry before it learns the log is off.
            if self.server.log.access_log_enabled:
                super().log_request()

    return Handler
