"""What every app shares: here, the database pool each worker gets."""

from __future__ import annotations

import pytest

from mcp_resource import create_app
from shared.app import engine_options
from shared.settings import ConfigError, Settings

POSTGRES = "postgresql://drawbridge@db/drawbridge"


@pytest.mark.parametrize(
    ("connections", "workers", "outside_pool", "kept", "more_under_load"),
    [
        (30, 1, 0, 10, 20),
        (30, 2, 1, 10, 4),  # the MCP server's audit writer holds one of each worker's share
        (30, 4, 0, 7, 0),  # 28 of 30: never more than the service is given
        (4, 2, 1, 1, 0),  # the least the MCP server's workers can start with
    ],
)
def test_each_worker_pools_its_share_of_the_services_connections(connections, workers, outside_pool, kept, more_under_load):
    settings = Settings(database_url=POSTGRES, database_connections=connections, server_workers=workers)

    assert engine_options(settings, outside_pool) == {"pool_pre_ping": True, "pool_size": kept, "max_overflow": more_under_load}


def test_a_service_given_too_few_connections_for_its_workers_refuses_to_start():
    """Each worker needs one pooled connection, and the MCP server's one more for its audit writer:
    with fewer, the workers together would go over what PostgreSQL was sized for."""
    too_few = Settings(database_url=POSTGRES, database_connections=7, server_workers=4)

    with pytest.raises(ConfigError, match=r"DRAWBRIDGE_DATABASE_CONNECTIONS=7 is too few for 4 workers, which need 2 each; set it to 8 or more"):
        create_app(too_few)
    assert engine_options(too_few)["pool_size"] == 1  # the authorization server holds none outside its pool


def test_sqlite_keeps_its_own_pool():
    assert engine_options(Settings(database_url="sqlite:///x.sqlite3", server_workers=2)) == {}


def test_the_connections_setting_is_read_and_checked():
    assert Settings.from_env({"DRAWBRIDGE_DATABASE_CONNECTIONS": "12"}).database_connections == 12
    assert Settings().database_connections == 30
    with pytest.raises(Exception, match="DRAWBRIDGE_DATABASE_CONNECTIONS=0 must be between 1 and 10000"):
        Settings.from_env({"DRAWBRIDGE_DATABASE_CONNECTIONS": "0"})
