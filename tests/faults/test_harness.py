"""The fault harness itself: the stack runs on the test's own servers, and breaking them is real."""

from __future__ import annotations

import httpx
import psycopg
import pytest


def test_the_stack_answers_on_its_own_servers_and_a_stopped_cluster_refuses_connections(fault_stack):
    fault_stack.start_auth()
    client = fault_stack.machine_client()
    assert fault_stack.token(client)
    assert fault_stack.redis.client().ping()

    fault_stack.postgres.stop()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(fault_stack.settings.database_url, connect_timeout=2)
    fault_stack.postgres.start()
    assert fault_stack.sql("SELECT count(*) FROM oauth_clients WHERE client_id = %s", client.client_id) == [(1,)]
    assert httpx.get(f"{fault_stack.settings.issuer}/healthz", timeout=5).status_code in (200, 503)
