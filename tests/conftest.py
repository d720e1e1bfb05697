"""Session fixtures: real PostgreSQL and Redis, a migrated test database, both services live."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import psycopg
import pytest
import redis
from flask import Flask
from flask_migrate import upgrade

import authserver
import mcp_resource
from authserver import keys
from mcp_resource.demo.seed import seed
from shared.cli import MIGRATIONS_DIR, create_cli_app
from shared.settings import Settings
from tests import live
from tests.services import Services, ServiceUnavailable, find_services, with_path

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
# gunicorn's keepalive of the short_keepalive_auth_port server: silences and bodies are cut after it.
SHORT_KEEPALIVE_SECONDS = 1


@pytest.fixture(scope="session")
def services() -> Services:
    try:
        return find_services()
    except ServiceUnavailable as error:
        pytest.exit(str(error), returncode=3)


@pytest.fixture(scope="session")
def create_database(services: Services) -> Iterator:
    """Makes empty PostgreSQL databases on the test server and drops them all at the end."""
    created: list[str] = []
    admin = psycopg.connect(services.database_server_url, autocommit=True)

    def create(purpose: str) -> str:
        name = f"drawbridge_test_{purpose}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        admin.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return with_path(services.database_server_url, f"/{name}")

    yield create
    # In-process test apps keep polling in background threads until the interpreter exits; once
    # their databases are dropped that is expected, not worth a warning after the test summary.
    logging.disable(logging.WARNING)
    for name in created:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def migrate(settings: Settings) -> Flask:
    """Build the schema from empty with the project's migrations, as `drawbridge db upgrade` does."""
    app = create_cli_app(settings)
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
    return app


@dataclass
class Live:
    auth: live.LiveServer
    mcp: live.LiveServer
    settings: Settings
    env: dict[str, str]


@pytest.fixture(scope="session")
def live_services(services: Services, create_database) -> Iterator[Live]:
    """Both services under gunicorn + gevent on a migrated database with a key and demo data."""
    auth_port, mcp_port = live.free_port(), live.free_port()
    settings = Settings(
        database_url=create_database("main"),
        redis_url=services.redis_url,
        issuer=f"http://127.0.0.1:{auth_port}",
        resource_url=f"http://127.0.0.1:{mcp_port}/mcp",
        # Every test registers from 127.0.0.1; the limit itself is tested on its own app.
        registrations_per_ip_per_hour=100000,
        sse_keepalive_seconds=1,
        report_step_ms=200,
        log_level="INFO",
    )
    redis.Redis.from_url(services.redis_url).flushdb()
    cli_app = migrate(settings)
    with cli_app.app_context():
        keys.ensure()
        seed()
    env = {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url or "",
        "DRAWBRIDGE_ISSUER": settings.issuer,
        "DRAWBRIDGE_RESOURCE_URL": settings.resource_url,
        "DRAWBRIDGE_REGISTRATIONS_PER_IP_PER_HOUR": str(settings.registrations_per_ip_per_hour),
        "DRAWBRIDGE_SSE_KEEPALIVE_SECONDS": str(int(settings.sse_keepalive_seconds)),
        "DRAWBRIDGE_REPORT_STEP_MS": str(settings.report_step_ms),
        "DRAWBRIDGE_LOG_LEVEL": settings.log_level,
    }
    auth = live.start("authserver:create_app()", "deploy/gunicorn_authserver.py", auth_port, env, ARTIFACTS / "authserver.log")
    worker = live.start_worker(env, ARTIFACTS / "worker.log")
    try:
        mcp = live.start("mcp_resource:create_app()", "deploy/gunicorn_mcp.py", mcp_port, env, ARTIFACTS / "mcp_resource.log")
    except Exception:
        auth.stop()
        live.stop_worker(worker)
        raise
    services = Live(auth=auth, mcp=mcp, settings=settings, env=env)
    yield services
    services.mcp.stop()  # a test may have replaced it (the restart test does)
    services.auth.stop()
    live.stop_worker(worker)


@pytest.fixture(scope="session")
def settings(live_services: Live) -> Settings:
    """The settings the live services run with; in-process apps use the same."""
    return live_services.settings


@pytest.fixture(scope="session")
def auth_app(settings: Settings) -> Flask:
    app = authserver.create_app(settings)
    app.config["TESTING"] = True
    return app


@pytest.fixture(scope="session")
def mcp_app(settings: Settings) -> Flask:
    app = mcp_resource.create_app(settings)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def fresh_auth_app(settings: Settings, create_database) -> Iterator[Flask]:
    """An authorization server on its own empty, migrated database (for tests that rotate keys)."""
    own = replace(settings, database_url=create_database("fresh"))
    migrate(own)
    app = authserver.create_app(own)
    with app.app_context():
        yield app


@pytest.fixture
def auth_context(auth_app: Flask) -> Iterator[Flask]:
    with auth_app.app_context():
        yield auth_app


@pytest.fixture
def redis_client(services: Services) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(services.redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture(scope="session")
def short_keepalive_auth_port(live_services: Live) -> Iterator[int]:
    """A second authorization server whose connections may stay silent, and whose request bodies
    may take, SHORT_KEEPALIVE_SECONDS at most."""
    port = live.free_port()
    env = {**live_services.env, "GUNICORN_CMD_ARGS": f"--keep-alive {SHORT_KEEPALIVE_SECONDS}"}
    server = live.start("authserver:create_app()", "deploy/gunicorn_authserver.py", port, env, ARTIFACTS / "authserver-short-keepalive.log")
    yield port
    server.stop()
