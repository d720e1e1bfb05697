"""Alembic environment, run by Flask-Migrate (`drawbridge db ...`) inside the CLI app."""

import logging

from alembic import context
from flask import current_app

# Every models module, so autogenerate and the schema test see every table.
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
        context.configure(
            connection=connection,
            target_metadata=db.metadata,
            **options,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run `drawbridge db upgrade`.")
run_migrations_online()
