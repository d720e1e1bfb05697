"""The revocation set, on Redis and on the shared database: same behaviour behind one interface."""

from __future__ import annotations

import time

import pytest

from mcp_resource.guardrails.ratelimit import Charge, RedisRateLimiter
from shared.db import db
from shared.policy import ClientPolicies, Defaults
from shared.revocation import CLIENT, GRANT, TOKEN, DatabaseRevocations, RedisRevocations, RevokedEntry, redis_key

NOW = int(time.time())


@pytest.fixture(params=["redis", "database"])
def revocations(request, redis_client, auth_context):
    """Empty at first: the database's entries are deleted in this test's transaction only."""
    if request.param == "redis":
        return RedisRevocations(redis_client)
    db.session.query(RevokedEntry).delete()
    db.session.commit()
    return DatabaseRevocations()


def test_nothing_is_revoked_at_first(revocations):
    assert not revocations.any_revoked([(TOKEN, "jti-1"), (GRANT, "grant-1")], NOW)


def test_a_revoked_grant_is_found_among_other_entries(revocations):
    revocations.revoke(GRANT, "grant-1", int(time.time()) + 60)

    assert revocations.any_revoked([(TOKEN, "jti-1"), (GRANT, "grant-1")], NOW)
    assert not revocations.any_revoked([(TOKEN, "grant-1"), (GRANT, "grant-2")], NOW)


def test_an_entry_ends_when_the_tokens_it_covers_have_expired(revocations):
    revocations.revoke(TOKEN, "jti-old", int(time.time()) - 5)

    assert not revocations.any_revoked([(TOKEN, "jti-old")], NOW)


def test_an_entry_can_void_only_the_tokens_issued_before_a_moment(revocations):
    now = int(time.time())
    revocations.void_issued_before(CLIENT, "client-1", now, now + 60)

    assert revocations.any_revoked([(TOKEN, "jti-1"), (CLIENT, "client-1")], now - 1)
    assert not revocations.any_revoked([(TOKEN, "jti-2"), (CLIENT, "client-1")], now)


def test_an_entry_written_before_entries_carried_a_moment_still_voids_every_token(redis_client, auth_context):
    """RFC 7009 section 2.2: "the revoked token ... cannot be used any more". An entry an earlier
    version wrote (Redis value 1, kept until its tokens expire) stays a revocation through an upgrade,
    both in the check here and in the resource server's admission script."""
    jti = f"jti-{time.time_ns()}"
    redis_client.set(redis_key(TOKEN, jti), 1, ex=60)
    limiter = RedisRateLimiter(redis_client, ClientPolicies(Defaults(client=10, person=10)))

    assert RedisRevocations(redis_client).any_revoked([(TOKEN, jti)], NOW)
    assert limiter.admit([(TOKEN, jti)], NOW, Charge(f"client-{jti}", None, "list_posts")).revoked
