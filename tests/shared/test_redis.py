"""The Redis connection factory, against the real Redis."""

from __future__ import annotations

import threading

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


def test_a_busy_pool_waits_for_a_connection_instead_of_refusing(services):
    """redis-py's default pool refuses the 101st connection; ours waits (bounded) for a free one."""
    client = drawbridge_redis.connect(services.redis_url)
    drawbridge_redis.fit_to_worker(client, 0)  # one connection for the whole process
    held = client.connection_pool.get_connection()
    threading.Timer(0.3, client.connection_pool.release, args=(held,)).start()

    assert client.ping()  # waited for the one connection


def test_a_workers_pool_is_sized_from_its_connections_within_the_bound(services):
    client = drawbridge_redis.connect(services.redis_url)

    drawbridge_redis.fit_to_worker(client, 10)
    small = client.connection_pool.max_connections
    drawbridge_redis.fit_to_worker(client, 16_000)

    assert small == 11  # its requests, and the event listener
    assert client.connection_pool.max_connections == drawbridge_redis.MAX_CONNECTIONS_PER_PROCESS
