"""The Redis client's command packer sends every command byte for byte as redis-py's own does."""

from __future__ import annotations

import pytest
from redis._parsers.encoders import Encoder
from redis.connection import PythonRespSerializer
from redis.exceptions import DataError

from shared.redis import BUFFER_CUTOFF, CommandPacker

REDIS_PY = PythonRespSerializer(BUFFER_CUTOFF, Encoder("utf-8", "strict", decode_responses=False).encode)


@pytest.mark.parametrize(
    "command",
    [
        ("GETEX", "drawbridge:session:abc", "EX", 3600),
        (b"EVALSHA", b"0123abcd", b"2", b"k1", b"k2", b"60000", b"caf\xc3\xa9"),
        ("SET", "caf\u00e9", "\u2603", "KEEPTTL", "XX"),
        ("ZADD", "k", 0.1, "m", 1e20, "n", -3),
        ("CLIENT SETNAME", "worker-1"),
        (b"SCRIPT LOAD", b"return 1"),
        ("SET", "k", bytearray(b"raw")),
        ("SET", "k", memoryview(b"view")),
        ("SET", "k", "x" * (BUFFER_CUTOFF + 10)),
        ("PING",),
    ],
)
def test_a_command_is_packed_as_redis_py_packs_it(command):
    assert b"".join(CommandPacker().pack(*command)) == b"".join(REDIS_PY.pack(*command))


@pytest.mark.parametrize("value", [True, None, object()])
def test_an_argument_redis_py_refuses_is_refused_the_same_way(value):
    with pytest.raises(DataError):
        REDIS_PY.pack("SET", "k", value)
    with pytest.raises(DataError):
        CommandPacker().pack("SET", "k", value)
