"""A client's policy as the resource server reads it: cached a few seconds, read again by one request."""

from __future__ import annotations

from shared import cache, policy
from shared.db import db
from tests.factories import make_client
from tests.staleness import Clock, arriving_mid_query


def test_a_clients_own_limit_is_read_from_the_database(auth_context):
    client = make_client(rate_limit=7)

    assert policy.ClientPolicies(default_rate_limit_per_minute=120).rate_limit_per_minute(client.client.client_id) == 7
    assert policy.ClientPolicies(default_rate_limit_per_minute=120).rate_limit_per_minute("no-such-client") == 120


def test_a_stale_limit_is_read_again_by_one_request_while_the_others_keep_it(auth_context, monkeypatch):
    """Many requests in flight when the limit goes stale must not all query the database at once."""
    clock = Clock()
    monkeypatch.setattr(cache, "time", clock)
    policies = policy.ClientPolicies(default_rate_limit_per_minute=120)
    client = make_client(rate_limit=7)
    client_id = client.client.client_id
    assert policies.rate_limit_per_minute(client_id) == 7
    client.client.rate_limit_per_minute = 9
    db.session.commit()
    clock.now += policy.CACHE_SECONDS + 1

    with arriving_mid_query(db.engine, lambda: policies.rate_limit_per_minute(client_id)) as seen:
        assert policies.rate_limit_per_minute(client_id) == 9

    assert seen.queries == 1
    assert seen.arriving_got == [7]
