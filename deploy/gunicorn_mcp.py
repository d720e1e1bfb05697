"""gunicorn settings for the MCP resource server: `gunicorn -c deploy/gunicorn_mcp.py 'mcp_resource:create_app()'`."""

import os
import tempfile

from serving.hooks import child_exit, on_starting, post_worker_init, worker_exit  # noqa: F401 (gunicorn reads them)

bind = os.environ.get("DRAWBRIDGE_MCP_BIND", "127.0.0.1:8001")
workers = int(os.environ.get("DRAWBRIDGE_MCP_WORKERS", "1"))
# gevent: every open SSE stream is a greenlet, not a thread (Flask docs/gevent.rst); gevent's own
# HTTP server in gunicorn (serving/worker.py).
worker_class = "serving.worker.PyWSGIWorker"
worker_connections = int(os.environ.get("DRAWBRIDGE_MCP_WORKER_CONNECTIONS", "16000"))
# Seconds a connection may stay silent, between requests or within one; longer than the proxy's
# idle timeout, so the proxy closes first. An open SSE stream is the server writing, not silence,
# unless its client stops reading: a write blocked this long closes the connection too.
keepalive = 75
# SSE streams stay open; only a worker that stops answering its arbiter is restarted.
timeout = 30
graceful_timeout = 10
# gunicorn's lines as JSON, like the app's, tagged with the service's name (serving/gunicorn_logs.py).
# One line per request only with DRAWBRIDGE_ACCESS_LOG=on: nginx in front logs each request already
# (deploy/nginx.conf), with the X-Request-Id the app's lines carry.
logger_class = "serving.gunicorn_logs.JsonLogger"
proc_name = "mcp_resource"
accesslog = "-" if os.environ.get("DRAWBRIDGE_ACCESS_LOG", "off") == "on" else None
# Two services share a machine: one default control socket path would collide.
control_socket_disable = True

# Several workers add up their Prometheus samples through files in one directory.
if workers > 1:
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="drawbridge-metrics-"))

