"""What every Drawbridge Flask app shares: settings, database, logging and proxy handling."""

from __future__ import annotations

import functools
import sqlite3
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from serving.context import current_flask_app
from serving.cookie_sessions import CookieSessionInterface
from serving.turns import take_turns
from shared import logging as drawbridge_logging
from shared import metrics
from shared.db import bounded_waits, db, release_session
from shared.health import bp as health_bp
from shared.settings import Settings

SQLITE_BUSY_TIMEOUT_MS = 5000
# More than the hooks, views and error handlers an app registers: ensure_sync's answers, kept.
ENSURE_SYNC_CACHE_SIZE = 256
# Database connections a worker keeps open while idle; the rest of its share only under load.
KEPT_CONNECTIONS = 10


def configure_app(app: Flask, settings: Settings, service: str, connections_outside_pool: int = 0, bound_answers: bool | None = None) -> None:
    """Bind settings, the database, request-id logging and `/healthz` to `app` (its services, Redis
    among them, are its factory's: shared/services.py). A service
    that holds `connections_outside_pool` database connections of its own per process says so:
    they come out of its share of DRAWBRIDGE_DATABASE_CONNECTIONS. `bound_answers`: whether a
    database answer may take at most DRAWBRIDGE_DATABASE_TIMEOUT_SECONDS (default: for the
    services, not for the CLI)."""
    app.config.update(
        SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=sqlalchemy_url(settings.database_url),
        # Migrations (the CLI) and jobs may run long statements; requests never should.
        SQLALCHEMY_ENGINE_OPTIONS={
            **engine_options(settings, connections_outside_pool),
            **bounded_waits(settings.database_url, settings.database_timeout_seconds, bound_answers=service != "cli" if bound_answers is None else bound_answers),
        },
    )
    drawbridge_logging.configure(service, settings.log_level)
    drawbridge_logging.init_app(app)
    app.session_interface = CookieSessionInterface()
    # Flask asks inspect whether each hook and view is a coroutine function on every request; the
    # answer for a registered function never changes.
    app.ensure_sync = functools.lru_cache(maxsize=ENSURE_SYNC_CACHE_SIZE)(app.ensure_sync)  # type: ignore[method-assign]
    app.before_request(take_turns)
    db.init_app(app)
    # In place of Flask-SQLAlchemy's own teardown, which removes the same session but lets a failure raise.
    app.teardown_appcontext_funcs.remove(db._teardown_session)
    app.teardown_appcontext(release_session)
    app.register_blueprint(health_bp)
    metrics.init_app(app)
    if settings.trusted_proxy_count:
        n = settings.trusted_proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)  # type: ignore[method-assign]
    if not settings.is_production:
        settings.warn_if_unsafe()


def current_settings() -> Settings:
    """The Settings of the app handling this request or command."""
    return current_flask_app().config["SETTINGS"]


def sqlalchemy_url(database_url: str) -> str:
    """Use psycopg 3 for PostgreSQL: it cooperates with gevent, psycopg2 does not."""
    for prefix in ("postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url[len(prefix) :]
    return database_url


def engine_options(settings: Settings, connections_outside_pool: int = 0) -> dict[str, Any]:
    """A pool of this worker's share of the service's connections (at least one): up to
    KEPT_CONNECTIONS stay open when idle, the rest are opened when needed and closed after; a
    request that finds none free waits for one rather than opening another."""
    if settings.database_url.startswith("sqlite"):
        return {}
    size = settings.database_pool_size(connections_outside_pool)
    kept = min(size, KEPT_CONNECTIONS)
    return {"pool_pre_ping": True, "pool_size": kept, "max_overflow": size - kept}


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """SQLite is shared by two services: WAL lets readers and a writer overlap."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
