"""Peer: the ceiling of our stack, a bare Flask app answering POST /mcp with a fixed JSON-RPC result
for an `echo` tools/call; POST /mcp-yield does the same after yielding once to the other
connections, as Drawbridge does. Run under gunicorn with one gevent worker:

    .venv/bin/gunicorn -k gevent -w 1 --bind 127.0.0.1:9001 'bench.peers.bare_flask:create_app()'
"""

from __future__ import annotations

import time

from flask import Flask, Response

RESULT = b'{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"hi"}],"isError":false}}'


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def index() -> str:
        return "bare flask"

    @app.post("/mcp")
    def mcp() -> Response:
        return Response(RESULT, mimetype="application/json")

    @app.post("/mcp-yield")
    def mcp_yield() -> Response:
        time.sleep(0)  # gevent's sleep under the worker: the other connections take their turn
        return Response(RESULT, mimetype="application/json")

    return app
