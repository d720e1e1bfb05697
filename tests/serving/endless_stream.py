"""A WSGI app for the worker tests: /healthz answers; any other path streams 64 KiB events forever."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Any

from shared import logging as drawbridge_logging

drawbridge_logging.configure("test", "INFO")
EVENT = b"data: " + b"x" * 65536 + b"\n\n"


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ["PATH_INFO"] == "/healthz":
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"status": "ok"}\n']
    start_response("200 OK", [("Content-Type", "text/event-stream")])
    return itertools.repeat(EVENT)
