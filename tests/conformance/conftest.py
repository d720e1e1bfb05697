"""A live MCP server for the conformance suite: the same database and issuer as the other live
services, a token with the fixture tools' scope injected into every request."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import live
from tests.conformance import suite
from tests.conformance.app import TOKEN_VARIABLE
from tests.conftest import ARTIFACTS, Live
from tests.factories import fetch_token, make_client


@pytest.fixture(scope="session")
def conformance_suite() -> None:
    suite.ensure_installed()


@pytest.fixture(scope="session")
def conformance_server(live_services: Live, auth_app, conformance_suite) -> Iterator[str]:
    settings = live_services.settings
    with auth_app.app_context():
        # The suite makes hundreds of calls a minute with this one client.
        token = fetch_token(settings, make_client(scope="posts:read posts:write conformance:run", rate_limit=1_000_000))
    port = live.free_port()
    # The suite calls the server by this URL, so it is the resource the token is for as well.
    env = {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url or "",
        "DRAWBRIDGE_ISSUER": settings.issuer,
        "DRAWBRIDGE_RESOURCE_URL": settings.resource_url,
        "DRAWBRIDGE_ALLOWED_ORIGINS": f"http://127.0.0.1:{port} http://localhost:{port}",
        "DRAWBRIDGE_SSE_KEEPALIVE_SECONDS": "1",
        TOKEN_VARIABLE: token,
    }
    server = live.start("tests.conformance.app:create_app()", "deploy/gunicorn_mcp.py", port, env, ARTIFACTS / "conformance-mcp.log")
    yield f"{server.url}/mcp"
    server.stop()
