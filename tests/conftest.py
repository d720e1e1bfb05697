"""Session fixtures in layers: real PostgreSQL and Redis, a migrated test database and the settings
of in-process apps, then (only for the tests that ask) both services and the job worker live."""

from __future__ import annotations

import logging
import os
import socket
import uuid
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import psycopg
import pytest
import redis
from flask import Flask, appcontext_pushed
from flask_migrate import upgrade
from sqlalchemy import Connection, Engine, event

import authserver
import mcp_resource
from authserver import keys
from mcp_resource.demo.seed import seed
from mcp_resource.services import McpServices
from shared.cli import MIGRATIONS_DIR, create_cli_app
from shared.db import db
from shared.services import EXTENSION
from shared.settings import Settings
from tests import live
from tests.client_host import ALLOWED_HOST, ClientHost, TestCA, make_test_ca
from tests.services import Services, ServiceUnavailable, find_services, with_path
from tests.weather_api import WeatherApi

# Logs and screenshots; each pytest-xdist worker writes under its own folder.
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / os.environ.get("PYTEST_XDIST_WORKER", "")
# A service's database connections in the tests (DRAWBRIDGE_DATABASE_CONNECTIONS, 30 by default):
# divisible by the 1 to 4 workers the live servers run.
TEST_DATABASE_CONNECTIONS = 12
# gunicorn's keepalive of the short_keepalive_auth_port server: silences and bodies are cut after it.
SHORT_KEEPALIVE_SECONDS = 1


# Every engine an app in this process made: the fixtures', the ones tests make, the CLI's.
ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()
# Every app this process pushed a context of: each may have started its services' loops.
APPS: weakref.WeakSet[Flask] = weakref.WeakSet()


@event.listens_for(Engine, "engine_connect")
def _remember_engine(connection: Connection) -> None:
    ENGINES.add(connection.engine)


@appcontext_pushed.connect
def _remember_app(app: Flask, **extra: object) -> None:
    APPS.add(app)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """After each test's fixtures are torn down, every MCP app of this process stops what holds
    PostgreSQL connections (its first request started the watchers, each polling the database,
    and its audit writer keeps a connection of its own), and every PostgreSQL engine closes the
    connections its pool keeps idle. Nothing else ends them while the app lives, fixtures keep apps
    for a whole module or session, and two test workers with their live servers must fit in
    PostgreSQL's default of 100 connections. An app's next request starts its watchers again; a
    pool or the writer reopens what it needs. Its pub/sub listener and streams stay: they hold no
    database connection, and a listener stopped and started between two tests could miss a message."""
    yield
    for app in list(APPS):
        found = app.extensions.get(EXTENSION)
        if isinstance(found, McpServices):
            found.tool_watcher.stop()
            found.jobs.stop()
            found.audit.close()
    for engine in list(ENGINES):
        if engine.url.get_backend_name() == "postgresql":
            engine.dispose()


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
def database(services: Services, create_database) -> str:
    """The URL of the session's test database: migrated, with a signing key and the demo data."""
    url = create_database("main")
    redis.Redis.from_url(services.redis_url).flushdb()
    cli_app = migrate(Settings(database_url=url, redis_url=services.redis_url))
    with cli_app.app_context():
        keys.ensure()
        seed()
    return url


@pytest.fixture(scope="session")
def live_ports() -> Iterator[list[socket.socket]]:
    """The live services' two ports, held until they start (see `live.reserve_port`)."""
    reserved = [live.reserve_port(), live.reserve_port()]
    yield reserved
    for port in reserved:
        port.close()


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    """The CA of client_host's certificate, which the live authorization server trusts."""
    return make_test_ca(tmp_path_factory.mktemp("client-host-ca"))


@pytest.fixture
def client_host(test_ca: TestCA) -> Iterator[ClientHost]:
    """A client's web host serving its metadata documents (tests/client_host.py)."""
    host = ClientHost(test_ca)
    yield host
    host.stop()


@pytest.fixture(scope="session")
def settings(services: Services, database: str, live_ports: list[socket.socket]) -> Settings:
    """The settings of in-process apps and of the live services, which answer at its issuer and
    resource URL only once a test asks for `live_services`."""
    auth_port, mcp_port = (port.getsockname()[1] for port in live_ports)
    return Settings(
        database_url=database,
        redis_url=services.redis_url,
        issuer=f"http://127.0.0.1:{auth_port}",
        resource_url=f"http://127.0.0.1:{mcp_port}/mcp",
        # Every test registers from 127.0.0.1; the limit itself is tested on its own app.
        registrations_per_ip_per_hour=100000,
        sse_keepalive_seconds=1,
        report_step_ms=200,
        log_level="INFO",
        # client_host's documents: on 127.0.0.1, so their host must be allowed; a slow one fails fast.
        cimd_allowed_hosts=(ALLOWED_HOST,),
        cimd_fetch_timeout_seconds=2,
        # Developers may make machine clients that read posts (the developer portal's tests).
        developer_machine_scopes=("posts:read",),
        # Each service's share of PostgreSQL's default 100 connections, which both test workers'
        # live servers and extra servers share (see also `pytest_runtest_teardown`).
        database_connections=TEST_DATABASE_CONNECTIONS,
    )


@pytest.fixture(scope="session")
def weather_api() -> Iterator[WeatherApi]:
    """The HTTP API the example tool package (examples/weather_tools) wraps, for the live MCP server."""
    api = WeatherApi()
    yield api
    api.stop()


@pytest.fixture(scope="session")
def live_services(settings: Settings, live_ports: list[socket.socket], test_ca: TestCA, weather_api: WeatherApi) -> Iterator[Live]:
    """Both services under gunicorn + gevent, and the job worker, on the session's database: for
    the tests that talk to a live server (HTTP to its port, a job run by the worker)."""
    env = {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url or "",
        "DRAWBRIDGE_ISSUER": settings.issuer,
        "DRAWBRIDGE_RESOURCE_URL": settings.resource_url,
        "DRAWBRIDGE_REGISTRATIONS_PER_IP_PER_HOUR": str(settings.registrations_per_ip_per_hour),
        "DRAWBRIDGE_SSE_KEEPALIVE_SECONDS": str(int(settings.sse_keepalive_seconds)),
        "DRAWBRIDGE_REPORT_STEP_MS": str(settings.report_step_ms),
        "DRAWBRIDGE_LOG_LEVEL": settings.log_level,
        "DRAWBRIDGE_CIMD_ALLOWED_HOSTS": " ".join(settings.cimd_allowed_hosts),
        "DRAWBRIDGE_CIMD_FETCH_TIMEOUT_SECONDS": str(settings.cimd_fetch_timeout_seconds),
        "DRAWBRIDGE_DEVELOPER_MACHINE_SCOPES": " ".join(settings.developer_machine_scopes),
        "DRAWBRIDGE_DATABASE_CONNECTIONS": str(settings.database_connections),
        # OpenSSL's own variable: the authorization server trusts client_host's test CA (only it).
        "SSL_CERT_FILE": str(test_ca.ca_file),
        # The example tool package's own setting (examples/weather_tools, installed by `make test`).
        "WEATHER_API_URL": weather_api.url,
    }
    auth_port, mcp_port = (port.getsockname()[1] for port in live_ports)
    for port in live_ports:
        port.close()
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
def auth_app(settings: Settings) -> Flask:
    app = authserver.create_app(settings)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def commits() -> None:
    """Asked for by a test, or a fixture, whose writes something outside the test's transaction
    must read (see `rolled_back`): they are committed, and stay."""


@pytest.fixture(autouse=True)
def rolled_back(request: pytest.FixtureRequest) -> Iterator[None]:
    """What a test writes through the in-process authorization server is gone at its end.

    A test that asks for `auth_app` (or `auth_context`, or a fixture that does) runs in a
    transaction that is rolled back, never committed: the app's engine is replaced by one
    connection in that transaction, and each session on it works in a SAVEPOINT (SQLAlchemy's
    "joining a session into an external transaction", join_transaction_mode="create_savepoint"),
    so the code's own commits and rollbacks keep their meaning inside the test. Its in-process
    requests (`auth_app.test_client()`) run in it too.

    It cannot apply where something outside that one connection must read the test's writes;
    those tests commit, as before:
    - tests that talk to the live servers (`live_services`, which `mcp_app` asks for as well):
      gunicorn and the job worker read and write the database in processes of their own;
    - tests that ask for `commits`: another app in this process (one the test makes, the CLI's),
      threads of the test's own, or code with a connection of its own (the policy reader,
      `shared/policy.py`; the audit writer).
    Apps other than `auth_app` (`fresh_auth_app`, the ones a test makes) are never inside it."""
    fixtures = set(request.fixturenames)
    if "auth_app" not in fixtures or fixtures & {"live_services", "commits"}:
        yield
        return
    app: Flask = request.getfixturevalue("auth_app")
    with app.app_context():
        engines = db.engines  # the app's own dict: replacing its engine here holds outside the context
    engine = engines[None]
    connection = engine.connect()
    outer = connection.begin()
    engines[None] = connection  # Flask-SQLAlchemy's sessions bind to what this holds, engine or connection
    sessions = db.session.session_factory
    sessions.configure(join_transaction_mode="create_savepoint")
    try:
        yield
    finally:
        del sessions.kw["join_transaction_mode"]  # Flask-SQLAlchemy's own options again
        engines[None] = engine
        outer.rollback()
        connection.close()


@pytest.fixture(scope="session")
def mcp_app(settings: Settings, live_services: Live) -> Flask:
    """An in-process MCP server; it fetches its JWKS from the live authorization server."""
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
    """The authorization server's app context, for a test's own database work (rolled back at its
    end unless the test commits: `rolled_back`)."""
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
