"""Fault tests: each runs the whole stack (authorization server, MCP server, job worker) against a
redis-server and a PostgreSQL cluster of its own, so it can break them for real (issue #19)."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx
import psycopg
import pytest
from flask import Flask

from authserver import keys
from mcp_resource.demo.seed import seed
from shared.settings import Settings
from tests import factories, live
from tests.conftest import ARTIFACTS, migrate
from tests.faults.servers import MissingServer, OwnPostgres, OwnRedis

TEMPLATE_DATABASE = "drawbridge_faults_template"


@pytest.fixture(scope="session")
def own_postgres() -> Iterator[OwnPostgres]:
    """One PostgreSQL cluster for the fault tests, with a migrated, seeded template database that
    each test's stack copies. A test that stops or freezes it leaves it running again (see
    `fault_stack`)."""
    cluster = OwnPostgres()
    try:
        cluster.init()
        cluster.start()
    except MissingServer as error:
        pytest.exit(str(error), returncode=3)
    template = replace(Settings(), database_url=cluster.create_database(TEMPLATE_DATABASE))
    cli_app = migrate(template)
    with cli_app.app_context():
        keys.ensure()
        seed()
        from shared.db import db

        db.engine.dispose()  # a template database must have no open connection when it is copied
    yield cluster
    cluster.remove()


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    server = OwnRedis()
    try:
        server.start()
    except MissingServer as error:
        pytest.exit(str(error), returncode=3)
    yield server
    server.crash()


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str


@dataclass
class FaultStack:
    """The three processes of a deployment on this test's own Redis and database."""

    settings: Settings
    env: dict[str, str]
    redis: OwnRedis
    postgres: OwnPostgres
    log_dir: Path
    auth: live.LiveServer | None = None
    mcp: live.LiveServer | None = None
    worker: subprocess.Popen[bytes] | None = None
    extra_servers: list[live.LiveServer] = field(default_factory=list)

    def start(self, *starters: Callable[[], object]) -> None:
        """Start processes side by side (by default the authorization and MCP servers); each
        starter returns once its process answers."""
        with ThreadPoolExecutor() as pool:
            for future in [pool.submit(starter) for starter in starters or (self.start_auth, self.start_mcp)]:
                future.result()

    def start_auth(self) -> live.LiveServer:
        self.auth = live.start("authserver:create_app()", "deploy/gunicorn_authserver.py", _port(self.settings.issuer), self.env, self.log_dir / "authserver.log")
        return self.auth

    def start_mcp(self, env: dict[str, str] | None = None, name: str = "mcp_resource") -> live.LiveServer:
        """The MCP server on DRAWBRIDGE_RESOURCE_URL's port; `env` overrides for a second instance
        (with its own --bind through GUNICORN_CMD_ARGS, say)."""
        server = live.start("mcp_resource:create_app()", "deploy/gunicorn_mcp.py", _port(self.settings.resource_url), {**self.env, **(env or {})}, self.log_dir / f"{name}.log")
        if self.mcp is None:
            self.mcp = server
        return server

    def start_worker(self) -> subprocess.Popen[bytes]:
        self.worker = live.start_worker(self.env, self.log_dir / "worker.log")
        return self.worker

    def app_context(self) -> Flask:
        """An app on the stack's database, for making clients and reading rows (use `with`)."""
        from shared.cli import create_cli_app

        return create_cli_app(self.settings)

    def machine_client(self, scope: str = "posts:read posts:write", rate_limit: int | None = None) -> Credentials:
        with self.app_context().app_context():
            made = factories.make_client(scope, rate_limit=rate_limit)
            return Credentials(made.client.client_id, made.client_secret)

    def token(self, client: Credentials, **form: str) -> str:
        """An access token for `client` from the stack's token endpoint."""
        data = {"grant_type": "client_credentials", "resource": self.settings.resource_url, **form}
        response = httpx.post(f"{self.settings.issuer}/token", data=data, auth=(client.client_id, client.client_secret), timeout=10)
        response.raise_for_status()
        return response.json()["access_token"]

    def sql(self, query: str, *params: object) -> list[tuple]:
        with psycopg.connect(self.settings.database_url, autocommit=True) as connection:
            return connection.execute(query, params).fetchall()

    def stop(self) -> None:
        """Every process stopped, side by side."""
        running = [server for server in [self.mcp, self.auth, *self.extra_servers] if server is not None and server.process.poll() is None]
        with ThreadPoolExecutor() as pool:
            stopping = [pool.submit(server.stop) for server in running]
            if self.worker is not None:
                stopping.append(pool.submit(live.stop_worker, self.worker))
            for future in stopping:
                future.result()


def _port(url: str) -> int:
    return int(url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])


@pytest.fixture
def fault_stack(own_postgres: OwnPostgres, own_redis: OwnRedis, request: pytest.FixtureRequest) -> Iterator[FaultStack]:
    """Settings and environment for a stack on a fresh copy of the template database; the test
    starts the processes it needs (`start`, `start_auth`, `start_mcp`, `start_worker`), all stopped
    at the end."""
    with _stack(own_postgres, own_redis, request.node.name, own_redis.url) as stack:
        yield stack


@pytest.fixture
def embedded_stack(own_postgres: OwnPostgres, own_redis: OwnRedis, request: pytest.FixtureRequest) -> Iterator[FaultStack]:
    """A second stack beside `fault_stack`, on a database of its own and without Redis (the
    embedded default), so that one test can wait for a fault on both at once."""
    with _stack(own_postgres, own_redis, f"{request.node.name}-embedded", "") as stack:
        yield stack


@pytest.fixture(scope="module")
def module_stack(own_postgres: OwnPostgres, request: pytest.FixtureRequest) -> Iterator[FaultStack]:
    """One stack, on a redis-server of its own, for every test of a module whose faults leave it
    serving again: each test compares counts before and after, not from zero."""
    server = OwnRedis()
    server.start()
    try:
        with _stack(own_postgres, server, request.module.__name__.rsplit(".", 1)[-1], server.url) as stack:
            yield stack
    finally:
        server.crash()


@contextmanager
def _stack(postgres: OwnPostgres, redis: OwnRedis, name: str, redis_url: str) -> Iterator[FaultStack]:
    database = f"drawbridge_fault_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres.url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}" TEMPLATE "{TEMPLATE_DATABASE}"')
    auth_port, mcp_port = live.free_port(), live.free_port()
    settings = Settings(
        database_url=postgres.database_url(database),
        redis_url=redis_url or None,
        issuer=f"http://127.0.0.1:{auth_port}",
        resource_url=f"http://127.0.0.1:{mcp_port}/mcp",
        registrations_per_ip_per_hour=100000,
        log_level="INFO",
    )
    env = {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": redis_url,
        "DRAWBRIDGE_ISSUER": settings.issuer,
        "DRAWBRIDGE_RESOURCE_URL": settings.resource_url,
        "DRAWBRIDGE_REGISTRATIONS_PER_IP_PER_HOUR": str(settings.registrations_per_ip_per_hour),
        "DRAWBRIDGE_LOG_LEVEL": settings.log_level,
    }
    log_dir = ARTIFACTS / "faults" / name
    log_dir.mkdir(parents=True, exist_ok=True)
    stack = FaultStack(settings=settings, env=env, redis=redis, postgres=postgres, log_dir=log_dir)
    try:
        yield stack
    finally:
        stack.stop()
        postgres.leave_running()
        with psycopg.connect(postgres.url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
