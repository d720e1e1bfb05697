"""The Redis connection factory, against the real Redis."""

from __future__ import annotations

from shared import redis as drawbridge_redis


def test_no_url_means_in_process_stand_ins():
    assert drawbridge_redis.connect(None) is None
    assert drawbridge_redis.connect("") is None


def test_a_url_gives_a_working_client(services, redis_client):
    client = drawbridge_redis.connect(services.redis_url)

    client.set(drawbridge_redis.key("test", "a"), "1")

    assert redis_client.get("drawbridge:test:a") == b"1"


def test_keys_have_one_shape():
    assert drawbridge_redis.key("ratelimit", "client-1", "2026") == "drawbridge:ratelimit:client-1:2026"
