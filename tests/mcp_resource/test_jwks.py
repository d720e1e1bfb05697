"""The JWKS cache: fetched from the live authorization server, refreshed on an unknown kid, stored in Redis."""

from __future__ import annotations

import json

import pytest
from joserfc.jwk import ECKey

from authserver import keys
from mcp_resource.errors import KeysUnavailable
from mcp_resource.jwks import STORED_JWKS_TTL_SECONDS, JwksCache, fetch_json
from tests.live import free_port

pytestmark = pytest.mark.usefixtures("live_services")

INTERVAL_SECONDS = 5


def counting(fetch):
    calls = []

    def wrapped(url: str):
        calls.append(url)
        return fetch(url)

    return wrapped, calls


def unreachable_url() -> str:
    return f"http://127.0.0.1:{free_port()}/jwks"


def test_keys_come_from_the_authorization_servers_jwks(settings, auth_context):
    cache = JwksCache(settings.jwks_url, 300, INTERVAL_SECONDS)

    assert cache.key(keys.signing_key(600).kid) is not None
    assert cache.key("no-such-kid") is None


def test_a_rotated_in_key_is_found_by_refetching(fresh_auth_app):
    http = fresh_auth_app.test_client()
    fetch, calls = counting(lambda url: http.get(url).json)
    cache = JwksCache("/jwks", 300, refetch_interval_seconds=0, fetch=fetch)
    first_kid = keys.rotate().kid
    assert cache.key(first_kid) is not None

    second_kid = keys.rotate().kid

    assert cache.key(second_kid) is not None
    assert cache.key(first_kid) is not None  # the retired key still verifies its live tokens
    assert len(calls) == 2


def test_unknown_kids_do_not_refetch_more_than_once_per_interval(settings, auth_context):
    fetch, calls = counting(fetch_json)
    cache = JwksCache(settings.jwks_url, 300, INTERVAL_SECONDS, fetch=fetch)

    for _ in range(5):
        cache.key("made-up-kid")

    assert len(calls) == 1


def test_no_keys_at_all_is_a_service_problem_not_a_bad_token():
    cache = JwksCache(unreachable_url(), 300, INTERVAL_SECONDS)

    with pytest.raises(KeysUnavailable):
        cache.key("any")


def test_keys_already_fetched_keep_working_while_the_server_is_away(settings, auth_context):
    answers = iter([fetch_json(settings.jwks_url)])

    def flaky(url: str):
        try:
            return next(answers)
        except StopIteration:
            raise OSError("connection refused") from None

    cache = JwksCache(settings.jwks_url, 0, refetch_interval_seconds=0, fetch=flaky)
    kid = keys.signing_key(600).kid

    assert cache.key(kid) is not None
    assert cache.key(kid) is not None  # stale and the refetch failed: the old keys still answer


def test_a_fetched_set_is_stored_in_redis_with_an_expiry(settings, auth_context, redis_client):
    cache = JwksCache(settings.jwks_url, 300, INTERVAL_SECONDS, redis_client=redis_client)
    kid = keys.signing_key(600).kid
    cache.key(kid)

    stored = json.loads(redis_client.get(cache.redis_key))

    assert kid in {k["kid"] for k in stored["keys"]}
    assert 0 < redis_client.ttl(cache.redis_key) <= STORED_JWKS_TTL_SECONDS


def test_a_stored_set_answers_when_the_server_is_unreachable(settings, auth_context, redis_client):
    stored = JwksCache(unreachable_url(), 300, INTERVAL_SECONDS, redis_client=redis_client)
    redis_client.set(stored.redis_key, json.dumps(fetch_json(settings.jwks_url)))

    assert stored.key(keys.signing_key(600).kid) is not None


def test_a_worker_that_reaches_the_server_trusts_what_it_fetches_over_what_redis_holds(settings, auth_context, redis_client):
    """RFC 9068 section 4: "The resource server MUST use the keys provided by the authorization
    server". A set planted in Redis (its writer is not the authorization server) is the fallback for
    a worker that cannot reach it, never a source of keys while it answers."""
    planted = ECKey.generate_key("P-256", auto_kid=True)
    cache = JwksCache(settings.jwks_url, 300, INTERVAL_SECONDS, redis_client=redis_client)
    redis_client.set(cache.redis_key, json.dumps({"keys": [planted.as_dict(private=False)]}))

    assert cache.key(planted.kid) is None
    assert cache.key(keys.signing_key(600).kid) is not None


def private_set() -> str:
    return json.dumps({"keys": [ECKey.generate_key("P-256", auto_kid=True).as_dict(private=True)]})


@pytest.mark.parametrize(
    "stored",
    [
        b"not json",
        b"[]",
        b'{"keys": "none"}',
        b'{"keys": []}',
        b'{"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}]}',
        private_set().encode(),
    ],
    ids=["not-json", "not-an-object", "keys-not-an-array", "no-keys", "not-a-point", "private-key"],
)
def test_a_stored_copy_that_is_not_a_public_jwk_set_is_ignored(redis_client, stored):
    cache = JwksCache(unreachable_url(), 300, INTERVAL_SECONDS, redis_client=redis_client)
    redis_client.set(cache.redis_key, stored)

    with pytest.raises(KeysUnavailable):
        cache.key("any")
