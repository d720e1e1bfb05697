"""Bounded waits on PostgreSQL (shared/db.py), on real connections."""

from __future__ import annotations

from shared import db


def test_a_callers_own_timeout_stays_psycopgs(services):
    """`notifies(timeout=...)` ends quietly when its timeout passes, and the connection stays usable:
    only the waits nobody bounded are turned into a closed connection."""
    connection = db.connector(services.database_server_url, timeout_seconds=5)()
    try:
        connection.autocommit = True
        connection.execute("LISTEN drawbridge_test_db")

        assert list(connection.notifies(timeout=0.2)) == []
        assert connection.execute("SELECT 1").fetchone() == (1,)
    finally:
        connection.close()
