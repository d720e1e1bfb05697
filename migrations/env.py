"""Alembic environment, run by Flask-Migrate (`drawbridge db ...`) inside the CLI app."""

import logging

from alembic import context
from flask import current_app
from sqlalchemy import Connection

# Every models module, so autogenerate and the schema test see every table.
import authserver.audit_hours  # noqa: F401
import authserver.audit_latency  # noqa: F401
import authserver.audit_summaries  # noqa: F401
import authserver.models  # noqa: F401
import mcp_resource.demo.models  # noqa: F401
import mcp_resource.models  # noqa: F401
import shared.revocation  # noqa: F401
from shared.db import db

logger = logging.getLogger("alembic.env")
config = context.config


def process_revision_directives(context_, revision, directives):
    """Write no empty migration when the models and the schema already agree."""
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def run_migrations_online() -> None:
    engine = db.engine
    # Flask-Migrate's defaults: compare_type, and render_as_batch (SQLite cannot ALTER in place).
    options = dict(current_app.extensions["migrate"].configure_args)
    options.setdefault("process_revision_directives", process_revision_directives)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            foreign_keys(connection, on=False)
        try:
            context.configure(
                connection=connection,
                target_metadata=db.metadata,
                **options,
            )
            with context.begin_transaction():
                context.run_migrations()
            if sqlite:
                refuse_broken_references(connection)
        finally:
            if sqlite:
                foreign_keys(connection, on=True)


def foreign_keys(connection: Connection, *, on: bool) -> None:
    """On SQLite, a batch migration copies a table and drops the old one; with foreign keys on, the
    drop would cascade to every row that refers to it (a client's consents, grants and codes).
    SQLite reads this pragma only outside a transaction."""
    connection.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    connection.commit()


def refuse_broken_references(connection: Connection) -> None:
    """What the unchecked migration left must still refer to rows that exist."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RuntimeError(f"The migration left rows referring to missing rows: {broken[:10]}")


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run `drawbridge db upgrade`.")
run_migrations_online()
