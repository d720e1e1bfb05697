"""/healthz reports the database and Redis it can (or cannot) reach."""

from __future__ import annotations

from dataclasses import replace

import httpx

import authserver
from tests.live import free_port


def test_live_services_report_database_and_redis(live_services):
    for server in (live_services.auth, live_services.mcp):
        response = httpx.get(f"{server.url}/healthz", timeout=5)

        assert response.status_code == 200
        assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_unreachable_redis_is_503_not_500(settings):
    app = authserver.create_app(replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0"))

    response = app.test_client().get("/healthz")

    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "ok", "redis": "unreachable"}
