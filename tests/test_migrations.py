"""Migrations build the schema from empty on PostgreSQL and SQLite, matching the models."""

from __future__ import annotations

from dataclasses import replace

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import authserver.models  # noqa: F401 (registers the tables)
import mcp_resource.demo.models  # noqa: F401
import mcp_resource.models  # noqa: F401
import shared.revocation  # noqa: F401
from shared.db import db
from tests.conftest import migrate


@pytest.fixture(params=["postgresql", "sqlite"])
def empty_database_url(request, create_database, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    return create_database("migrations")


def test_upgrade_from_empty_matches_the_models(settings, empty_database_url):
    app = migrate(replace(settings, database_url=empty_database_url))

    with app.app_context(), db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
        tables = set(inspect(connection).get_table_names())

    assert differences == []
    assert {
        "oauth_clients", "signing_keys", "demo_posts", "users", "consents", "authorization_codes",
        "grants", "refresh_tokens", "revocations", "tool_states", "alembic_version",
        "demo_customers", "demo_products", "demo_orders", "demo_order_lines", "jobs", "audit_records",
        "initial_access_tokens",
    } == tables
