"""How HTTP requests reach both services' Flask apps: the gunicorn worker class and server hooks
the configurations name (deploy/gunicorn_*.py), the request reader under them, and the few
shortcuts each app installs for every request. `shared/` holds the domain code; nothing here knows
about tokens or tools.

The trade-off, stated once: the workers run gevent's own HTTP server (gevent.pywsgi) with a request
reader of our own (request_head.py, request_stream.py), instead of gunicorn's `gevent` worker with
its pure-Python parser, or gevent's stock handler, which reads the head with the standard library's
email parser. That is for speed, measured in bench/README.md: gevent's server took server CPU per
token from 688-751 to 621-661 us and per guarded tools/call from 836 to 727 us; reading the head
here rather than through the email parser took a further 4-8% off both. The cost is owning an
HTTP/1.1 parser, where reading a message differently from the proxy in front is request smuggling.
So the reader refuses any framing two parties could read two ways (RFC 9112), and it is proven, not
trusted: tests/unit/security/test_http_differential.py holds it to h11 on generated requests, and
tests/security/test_http_framing.py checks the live workers over raw sockets. A change to the reader
is a change to a parser, and comes with a case in those tests.

- worker.py: the gunicorn worker and its handler (keepalive-bounded reads, safe closes, graceful stop)
- request_head.py: the request line and header fields, read and checked
- request_stream.py: the body stream (`wsgi.input`): strict chunked framing, a deadline
- request_body.py: a whole body read within the app's size limit and its deadline
- graceful_stop.py: the app's part in a stopping worker (streams end, work in flight, flushes)
- hooks.py: gunicorn's server hooks: the worker count, the app's services started in each worker
  after the fork and stopped at its exit, gc.freeze and a higher young-generation threshold after
  start-up, dead workers' metrics
- turns.py: each request yields once, so one keep-alive connection cannot hold a worker
- cookie_sessions.py: no cookie parsing or signer for a request without cookies

This package imports nothing at its top: gunicorn imports the worker before gevent patches the
standard library (see request_stream.py).
"""
