"""gunicorn settings for the authorization server: `gunicorn -c deploy/gunicorn_authserver.py 'authserver:create_app()'`."""

import os
import tempfile

from serving.hooks import child_exit, on_starting, post_worker_init, worker_exit  # noqa: F401 (gunicorn reads them)

bind = os.environ.get("DRAWBRIDGE_AUTHSERVER_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("DRAWBRIDGE_AUTHSERVER_WORKERS", "1"))
# gevent: token requests wait on the database, not the CPU; psycopg 3 yields to other greenlets.
# gevent's own HTTP server in gunicorn (serving/worker.py).
worker_class = "serving.worker.PyWSGIWorker"
worker_connections = 1000
keepalive = 5  # seconds a connection may stay silent, between requests or within one
graceful_timeout = 10
# gunicorn's lines as JSON, like the app's, tagged with the service's name (serving/gunicorn_logs.py).
# One line per request only with DRAWBRIDGE_ACCESS_LOG=on: nginx in front logs each request already
# (deploy/nginx.conf), with the X-Request-Id the app's lines carry.
logger_class = "serving.gunicorn_logs.JsonLogger"
proc_name = "authserver"
accesslog = "-" if os.environ.get("DRAWBRIDGE_ACCESS_LOG", "off") == "on" else None
# Two services share a machine: one default control socket path would collide.
control_socket_disable = True

# Several workers add up their Prometheus samples through files in one directory.
if workers > 1:
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="drawbridge-metrics-"))

