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
    """gunicorn's handler for gevent's server, with a socket timeout and no idle access-log work."""

    class Handler(PyWSGIHandler):
        def handle(self) -> None:
            self.socket.settimeout(idle_timeout)
            super().handle()

        def log_request(self) -> None:
            # gunicorn's handler builds the access-log entry before it learns the log is off.
            if self.server.log.access_log_enabled:
                super().log_request()

    return Handler
