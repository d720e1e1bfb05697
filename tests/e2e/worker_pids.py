"""The MCP server with every response naming the worker process that served it (`X-Worker-Pid`), so
a test can prove that two requests reached two different gunicorn workers."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

import mcp_resource

WORKER_PID_HEADER = "X-Worker-Pid"


class NamePid:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        def named(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            return start_response(status, [*headers, (WORKER_PID_HEADER, str(os.getpid()))], *rest)

        return self.app(environ, named)


def create_app() -> Flask:
    app = mcp_resource.create_app()
    app.wsgi_app = NamePid(app.wsgi_app)  # type: ignore[method-assign]
    return app
