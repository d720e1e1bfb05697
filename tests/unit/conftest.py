"""Unit tests: no live server, no PostgreSQL, no Redis, so `pytest tests/unit` runs in seconds."""

from __future__ import annotations

import pytest

from shared.settings import Settings


@pytest.fixture(scope="session")
def services() -> None:
    """Refuses the servers every database, Redis and live fixture starts from."""
    pytest.fail("A unit test asked for PostgreSQL or Redis; it belongs beside the module it tests, outside tests/unit.")


@pytest.fixture(scope="session")
def settings() -> Settings:
    """Settings that reach no server: an in-memory SQLite database and in-process stand-ins for Redis."""
    return Settings(database_url="sqlite://")
