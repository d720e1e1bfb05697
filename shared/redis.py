"""Redis client from REDIS_URL, on one blocking connection pool per process, and the key names
every service agrees on."""

from __future__ import annotations

from typing import Any

import hiredis
import redis
from redis._parsers.encoders import Encoder
from redis.connection import PythonRespSerializer

KEY_PREFIX = "drawbridge"
SOCKET_TIMEOUT_SECONDS = 2.0
# The most connections one process opens (besides the one its shared pipeline keeps,
# mcp_resource/batching.py). Under gevent a request holds one only for a round trip
# and no open stream holds one while it idles (mcp_resource/wakeups.py), so a few dozen serve a
# worker's every concurrent request; and workers x instances x this stays well below Redis's
# `maxclients` (10,000 by default).
MAX_CONNECTIONS_PER_PROCESS = 128
# A request that finds every connection in use waits this long for one (redis-py's default pool
# refuses at once), then gets 503 with Retry-After like any other Redis failure.
POOL_WAIT_SECONDS = 5.0
# redis-py's own: a value longer than this is sent as a chunk of its own rather than copied.
BUFFER_CUTOFF = 6000


class CommandPacker:
    """Packs a command in one call of hiredis's C packer, which redis-py calls too, but only after a
    Python pass over every argument (type checks and an encode call each, some 50 bytecodes an
    argument: a rate-limit script carries 17, and packing was a twentieth of a tools/call's
    bytecodes). Any other command (a name that is not one word of letters, such as "CLIENT SETNAME"
    or "JSON.SET"; a memoryview, bool or bytearray argument) goes to redis-py's own packer, so every
    command is sent byte for byte as redis-py sends it and refused as it refuses it. Strings are
    encoded as UTF-8, strictly: redis-py's default, and the only encoding `connect` uses it with."""

    def __init__(self) -> None:
        self._fallback = PythonRespSerializer(BUFFER_CUTOFF, Encoder("utf-8", "strict", decode_responses=False).encode)

    def pack(self, *args: Any) -> list[bytes]:
        if args[0].isalpha() and memoryview not in map(type, args):
            try:
                return [hiredis.pack_command(args)]
            except TypeError:
                pass
        return self._fallback.pack(*args)


def connect(url: str | None) -> redis.Redis | None:
    """A client for REDIS_URL, or None on the embedded default (in-process stand-ins). Every Redis
    user of the process shares it, and so its one pool."""
    if not url:
        return None
    pool = redis.BlockingConnectionPool.from_url(
        url,
        max_connections=MAX_CONNECTIONS_PER_PROCESS,
        timeout=POOL_WAIT_SECONDS,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
        health_check_interval=30,
    )
    options = pool.connection_kwargs
    if (options.get("encoding", "utf-8"), options.get("encoding_errors", "strict")) == ("utf-8", "strict"):
        options["command_packer"] = CommandPacker()  # for every connection the pool makes
    return redis.Redis(connection_pool=pool)


def fit_to_worker(client: redis.Redis | None, worker_connections: int) -> None:
    """Size the pool for a gevent worker: no more connections than it serves requests at once, plus
    the one its event listener keeps."""
    size = min(worker_connections + 1, MAX_CONNECTIONS_PER_PROCESS)
    if client is None or size == client.connection_pool.max_connections:
        return
    pool = client.connection_pool
    pool.disconnect()
    pool.max_connections = size
    pool.reset()


def key(area: str, *parts: str) -> str:
    """`drawbridge:<area>:<id>...`, the one shape of every key we write."""
    return ":".join((KEY_PREFIX, area, *parts))
