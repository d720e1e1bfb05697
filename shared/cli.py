"""The `drawbridge` command: `db` (Flask-Migrate) plus each service's commands from entry points."""

from __future__ import annotations

import sys
from importlib.metadata import entry_points
from pathlib import Path

from flask import Flask
from flask.cli import FlaskGroup
from flask_migrate import Migrate
from flask_migrate.cli import db as db_commands

from shared import redis as drawbridge_redis
from shared import services
from shared.app import configure_app
from shared.db import db
from shared.settings import ConfigError, Settings

COMMANDS_ENTRY_POINT_GROUP = "drawbridge.commands"
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

migrate = Migrate()


def create_cli_app(settings: Settings | None = None) -> Flask:
    """A bare app with settings, database, Redis and migrations: enough for every command."""
    settings = settings or Settings.from_env()
    app = Flask("drawbridge")
    configure_app(app, settings, service="cli")
    services.install(app, services.Services(redis=drawbridge_redis.connect(settings.redis_url)))
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    return app


cli = FlaskGroup(
    name="drawbridge",
    help="Drawbridge: OAuth 2.0 authorization server and MCP resource server.",
    create_app=create_cli_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
)
cli.add_command(db_commands)
for _entry_point in entry_points(group=COMMANDS_ENTRY_POINT_GROUP):
    cli.add_command(_entry_point.load(), _entry_point.name)


def main() -> None:
    try:
        cli.main(prog_name="drawbridge")
    except ConfigError as error:
        sys.exit(str(error))
