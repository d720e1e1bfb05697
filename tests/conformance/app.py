"""The MCP server as the conformance suite meets it: the suite connects without credentials, so
this test-only wrapper adds the bearer token it was given to every request that lacks one."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

import mcp_resource

TOKEN_VARIABLE = "DRAWBRIDGE_CONFORMANCE_TOKEN"


class InjectToken:
    def __init__(self, app: Callable[..., Iterable[bytes]], token: str) -> None:
        self.app = app
        self.token = token

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ.setdefault("HTTP_AUTHORIZATION", f"Bearer {self.token}")
        return self.app(environ, start_response)


def create_app() -> Flask:
    app = mcp_resource.create_app()
    app.wsgi_app = InjectToken(app.wsgi_app, os.environ[TOKEN_VARIABLE])  # type: ignore[method-assign]
    return app
