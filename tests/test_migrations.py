"""Migrations build the schema from empty on PostgreSQL and SQLite, matching the models, and
carry the data they reshape both ways."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

import authserver.audit_hours  # noqa: F401 (registers the tables)
import authserver.audit_latency  # noqa: F401
import authserver.audit_summaries  # noqa: F401
import authserver.models  # noqa: F401
import mcp_resource.demo.models  # noqa: F401
import mcp_resource.models  # noqa: F401
import shared.revocation  # noqa: F401
from shared.cli import MIGRATIONS_DIR, create_cli_app
from shared.db import db, utcnow
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
        "initial_access_tokens", "client_secrets", "audit_hours", "user_roles", "audit_latency_hours",
        "audit_day_tools", "audit_day_clients", "audit_hour_tools", "audit_hour_clients", "audit_hour_outcomes", "audit_latency_days",
    } == tables


def test_client_secrets_move_to_their_table_and_back(settings, empty_database_url):
    """0014: each client's secret hash becomes its one row in client_secrets, and nothing that
    refers to a client is lost on the way (on SQLite, copying oauth_clients would cascade its
    drop to them). Downgraded, a client keeps its newest live secret."""
    app = create_cli_app(replace(settings, database_url=empty_database_url))
    now, later, earlier = utcnow(), utcnow() + timedelta(days=1), utcnow() - timedelta(days=1)
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR), revision="0013")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO oauth_clients (client_id, client_secret_hash, client_name, scope, grant_types,"
                    " token_endpoint_auth_method, redirect_uris, response_types, client_metadata, registered_via,"
                    " may_introspect, created_at) VALUES (:id, :hash, 'n', '', 'client_credentials',"
                    " :method, '[]', '', '{}', 'cli', false, :now)"
                ),
                [
                    {"id": "confidential", "hash": "a" * 64, "method": "client_secret_basic", "now": now},
                    {"id": "public", "hash": None, "method": "none", "now": now},
                ],
            )
            connection.execute(text("INSERT INTO users (email, password_hash, created_at) VALUES ('a@example.com', 'x', :now)"), {"now": now})
            connection.execute(
                text(
                    "INSERT INTO consents (user_id, client_id, scope, resource, redirect_uris_sha256, created_at)"
                    " SELECT id, 'confidential', 's', 'r', 'h', :now FROM users"
                ),
                {"now": now},
            )

        upgrade(directory=str(MIGRATIONS_DIR))
        with db.engine.begin() as connection:
            moved = connection.execute(text("SELECT client_id, secret_hash, expires_at FROM client_secrets")).all()
            consents = connection.execute(text("SELECT count(*) FROM consents")).scalar()
            insert = text("INSERT INTO client_secrets (client_id, secret_hash, created_at, expires_at) VALUES ('confidential', :hash, :now, :ends)")
            connection.execute(insert, [{"hash": "b" * 64, "now": now, "ends": later}, {"hash": "c" * 64, "now": now, "ends": earlier}])
        downgrade(directory=str(MIGRATIONS_DIR), revision="0013")
        with db.engine.begin() as connection:
            restored = dict(connection.execute(text("SELECT client_id, client_secret_hash FROM oauth_clients")).all())
            consents_after = connection.execute(text("SELECT count(*) FROM consents")).scalar()
        db.engine.dispose()

    assert moved == [("confidential", "a" * 64, None)]
    assert consents == consents_after == 1
    assert restored == {"confidential": "b" * 64, "public": None}


def test_roles_come_and_go_with_their_table_and_people_stay(settings, empty_database_url):
    """0016: people keep their rows both ways; a role is one row in user_roles, gone with its person
    (the foreign key cascades) and, downgraded, gone with the table."""
    app = create_cli_app(replace(settings, database_url=empty_database_url))
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR), revision="0015")
        with db.engine.begin() as connection:
            insert = text("INSERT INTO users (email, password_hash, created_at) VALUES (:email, 'x', :now)")
            connection.execute(insert, [{"email": email, "now": utcnow()} for email in ("a@example.com", "b@example.com")])
        upgrade(directory=str(MIGRATIONS_DIR))
        with db.engine.begin() as connection:
            connection.execute(
                text("INSERT INTO user_roles (user_id, role, created_at) SELECT id, 'admin', :now FROM users"), {"now": utcnow()}
            )
            connection.execute(text("DELETE FROM users WHERE email = 'b@example.com'"))
            roles = connection.execute(text("SELECT u.email, r.role FROM user_roles r JOIN users u ON u.id = r.user_id")).all()
        downgrade(directory=str(MIGRATIONS_DIR), revision="0015")
        with db.engine.connect() as connection:
            people = connection.execute(text("SELECT email FROM users")).scalars().all()
            tables = set(inspect(connection).get_table_names())
        db.engine.dispose()

    assert roles == [("a@example.com", "admin")]
    assert people == ["a@example.com"]
    assert "user_roles" not in tables


# The rows that refer to a client or a person, as a database at 0011 holds them.
REFERRING_ROWS = [
    "INSERT INTO oauth_clients (client_id, client_secret_hash, client_name, scope, grant_types,"
    " token_endpoint_auth_method, created_at) VALUES ('app', NULL, 'App', '', 'authorization_code',"
    " 'none', :now)",
    "INSERT INTO users (email, password_hash, created_at) VALUES ('a@example.com', 'x', :now)",
    "INSERT INTO consents (user_id, client_id, scope, resource, redirect_uris_sha256, created_at)"
    " SELECT id, 'app', 's', 'r', 'h', :now FROM users",
    "INSERT INTO grants (id, client_id, user_id, scope, resource, created_at)"
    " SELECT 'g1', 'app', id, 's', 'r', :now FROM users",
    "INSERT INTO refresh_tokens (token_hash, grant_id, created_at, expires_at) VALUES ('r1', 'g1', :now, :now)",
    "INSERT INTO authorization_codes (code_hash, client_id, user_id, redirect_uri, scope, resource,"
    " code_challenge, code_challenge_method, created_at, expires_at, grant_id)"
    " SELECT 'c1', 'app', id, 'http://127.0.0.1/cb', 's', 'r', 'x', 'S256', :now, :now, 'g1' FROM users",
]
REFERRING_TABLES = ["oauth_clients", "users", "consents", "grants", "refresh_tokens", "authorization_codes"]


def test_upgrading_and_downgrading_keeps_what_refers_to_a_client(settings, empty_database_url):
    """A person's consent, grant, refresh token and authorization code outlive every migration
    after 0011, both ways. On SQLite a migration that changes a column copies its table and drops
    the old one; with foreign keys on, that drop cascaded to every row referring to a client (0012
    emptied consents, grants and codes)."""
    app = create_cli_app(replace(settings, database_url=empty_database_url))

    def counts() -> dict[str, int]:
        with db.engine.connect() as connection:
            return {table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() for table in REFERRING_TABLES}

    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR), revision="0011")
        with db.engine.begin() as connection:
            for statement in REFERRING_ROWS:
                connection.execute(text(statement), {"now": utcnow()})
        upgrade(directory=str(MIGRATIONS_DIR))
        after_upgrade = counts()
        downgrade(directory=str(MIGRATIONS_DIR), revision="0011")
        after_downgrade = counts()
        db.engine.dispose()

    every_row = dict.fromkeys(REFERRING_TABLES, 1)
    assert after_upgrade == every_row
    assert after_downgrade == every_row


def test_audit_indexes_and_hourly_counts_come_and_go(settings, empty_database_url):
    """0015: the audit records keep every row both ways; their indexes on client and tool gain the
    time, one on the person is added, and the hourly counts' table comes and goes."""
    app = create_cli_app(replace(settings, database_url=empty_database_url))
    row = (
        "INSERT INTO audit_records (at, client_id, subject, tool, outcome, duration_ms, request_id)"
        " VALUES (:now, 'c', 's', 't', 'ok', 1.0, 'r')"
    )

    def state() -> tuple[set[str], set[str], int]:
        with db.engine.connect() as connection:
            found = inspect(connection)
            indexes = {index["name"] for index in found.get_indexes("audit_records")}
            records = connection.execute(text("SELECT count(*) FROM audit_records")).scalar()
            return indexes, set(found.get_table_names()), records

    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR), revision="0014")
        with db.engine.begin() as connection:
            connection.execute(text(row), {"now": utcnow()})
        upgrade(directory=str(MIGRATIONS_DIR), revision="0015")
        upgraded = state()
        downgrade(directory=str(MIGRATIONS_DIR), revision="0014")
        downgraded = state()
        db.engine.dispose()

    old = {"ix_audit_records_at", "ix_audit_records_client_id", "ix_audit_records_tool", "ix_audit_records_request_id"}
    new = {"ix_audit_records_at", "ix_audit_records_client_id_at", "ix_audit_records_tool_at", "ix_audit_records_subject_at", "ix_audit_records_request_id"}
    assert upgraded[0] == new and "audit_hours" in upgraded[1] and upgraded[2] == 1
    assert downgraded[0] == old and "audit_hours" not in downgraded[1] and downgraded[2] == 1


def test_latency_histograms_come_and_go_and_the_records_stay(settings, empty_database_url):
    """0017: the hourly latency histograms' table comes and goes; no audit record is touched."""
    app = create_cli_app(replace(settings, database_url=empty_database_url))
    row = (
        "INSERT INTO audit_records (at, client_id, subject, tool, outcome, duration_ms, request_id)"
        " VALUES (:now, 'c', 's', 't', 'ok', 1.0, 'r')"
    )

    def state() -> tuple[bool, int]:
        with db.engine.connect() as connection:
            records = connection.execute(text("SELECT count(*) FROM audit_records")).scalar() or 0
            return "audit_latency_hours" in inspect(connection).get_table_names(), records

    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR), revision="0016")
        with db.engine.begin() as connection:
            connection.execute(text(row), {"now": utcnow()})
        upgrade(directory=str(MIGRATIONS_DIR), revision="0017")
        upgraded = state()
        downgrade(directory=str(MIGRATIONS_DIR), revision="0016")
        downgraded = state()
        db.engine.dispose()

    assert upgraded == (True, 1)
    assert downgraded == (False, 1)


def test_client_owners_come_and_go_and_a_client_outlives_its_owner(settings, empty_database_url):
    """0018: clients keep their rows both ways; a client's owner is the person who registered it in
    the developer portal, and when that person goes the client stays, owned by nobody (SET NULL)."""
    app = create_cli_app(replace(settings, database_url=empty_database_url))
    client = (
        "INSERT INTO oauth_clients (client_id, client_name, scope, grant_types, token_endpoint_auth_method, redirect_uris,"
        " response_types, client_metadata, registered_via, may_introspect, created_at) VALUES (:id, 'n', '', 'client_credentials',"
        " 'client_secret_basic', '[]', '', '{}', 'cli', false, :now)"
    )
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR), revision="0017")
        with db.engine.begin() as connection:
            connection.execute(text(client), [{"id": "kept", "now": utcnow()}, {"id": "owned", "now": utcnow()}])
            connection.execute(text("INSERT INTO users (email, password_hash, created_at) VALUES ('a@example.com', 'x', :now)"), {"now": utcnow()})
        upgrade(directory=str(MIGRATIONS_DIR))
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE oauth_clients SET owner_id = (SELECT id FROM users) WHERE client_id = 'owned'"))
            owners = dict(connection.execute(text("SELECT client_id, owner_id IS NOT NULL FROM oauth_clients")).all())
        with db.engine.begin() as connection:
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.execute(text("DELETE FROM users"))
            orphaned = dict(connection.execute(text("SELECT client_id, owner_id FROM oauth_clients")).all())
        downgrade(directory=str(MIGRATIONS_DIR), revision="0017")
        with db.engine.connect() as connection:
            columns = {column["name"] for column in inspect(connection).get_columns("oauth_clients")}
            clients = connection.execute(text("SELECT count(*) FROM oauth_clients")).scalar()
        db.engine.dispose()

    assert owners == {"kept": False, "owned": True}
    assert orphaned == {"kept": None, "owned": None}
    assert "owner_id" not in columns and clients == 2


def test_audit_summaries_come_and_go_and_the_hours_stay(settings, empty_database_url):
    """0019: the daily and per-outcome summaries' tables come and go; no audit record and no
    hourly row is touched."""
    app = create_cli_app(replace(settings, database_url=empty_database_url))
    summaries = {"audit_day_tools", "audit_day_clients", "audit_hour_tools", "audit_hour_clients", "audit_hour_outcomes", "audit_latency_days"}

    def state() -> tuple[set[str], int, int]:
        with db.engine.connect() as connection:
            records = connection.execute(text("SELECT count(*) FROM audit_records")).scalar() or 0
            hours = connection.execute(text("SELECT count(*) FROM audit_hours")).scalar() or 0
            return summaries & set(inspect(connection).get_table_names()), records, hours

    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR), revision="0018")
        with db.engine.begin() as connection:
            connection.execute(
                text("INSERT INTO audit_records (at, client_id, subject, tool, outcome, duration_ms, request_id) VALUES (:now, 'c', 's', 't', 'ok', 1.0, 'r')"),
                {"now": utcnow()},
            )
            connection.execute(
                text("INSERT INTO audit_hours (hour, client_id, tool, outcome, rate_limit, calls) VALUES (:hour, 'c', 't', 'ok', '', 1)"),
                {"hour": utcnow().replace(minute=0, second=0, microsecond=0)},
            )
        upgrade(directory=str(MIGRATIONS_DIR), revision="0019")
        upgraded = state()
        downgrade(directory=str(MIGRATIONS_DIR), revision="0018")
        downgraded = state()
        db.engine.dispose()

    assert upgraded == (summaries, 1, 1)
    assert downgraded == (set(), 1, 1)
