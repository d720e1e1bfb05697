"""The Redis client's command packer sends every command byte for byte as redis-py's own does."""

from __future__ import annotations

import pytest
import redis
from redis.exceptions import DataError

from shared.redis import BUFFER_CUTOFF, CommandPacker, connect

REDIS_PY = redis.Connection()  # redis-py's default packer (hiredis, after its pass over the arguments)
OURS = redis.Connection(command_packer=CommandPacker())


@pytest.mark.parametrize(
    "command",
    [
        ("GETEX", "drawbridge:session:abc", "EX", 3600),
        (b"EVALSHA", b"0123abcd", b"2", b"k1", b"k2", b"60000", b"caf\xc3\xa9"),
        ("SET", "caf\u00e9", "\u2603", "KEEPTTL", "XX"),
        ("ZADD", "k", 0.1, "m", 1e-7, "n", -3, "o", 10**30, "p", float("inf")),
        ("CLIENT SETNAME", "worker-1"),
        ("GET\tX",),
        (b"SCRIPT LOAD", b"return 1"),
        ("JSON.SET", "k", "$", "{}"),
        ("SET", "k", bytearray(b"raw")),
        ("SET", "k", memoryview(b"view")),
        ("SET", "k", "x" * (BUFFER_CUTOFF + 10)),
        ("PING",),
    ],
)
def test_a_command_is_packed_as_redis_py_packs_it(command):
    assert b"".join(OURS.pack_command(*command)) == b"".join(REDIS_PY.pack_command(*command))


@pytest.mark.parametrize("value", [True, None, object(), "\ud800"])
def test_an_argument_redis_py_refuses_is_refused_the_same_way(value):
    with pytest.raises((DataError, UnicodeEncodeError)) as theirs:
        REDIS_PY.pack_command("SET", "k", value)
    with pytest.raises(theirs.type):
        OURS.pack_command("SET", "k", value)


def test_a_client_with_another_encoding_keeps_redis_pys_packer():
    """The packer encodes strings as UTF-8 only: a REDIS_URL that names another encoding gets redis-py's."""
    default, latin = connect("redis://127.0.0.1:6379/0"), connect("redis://127.0.0.1:6379/0?encoding=latin-1")
    assert default is not None and latin is not None
    assert isinstance(default.connection_pool.connection_kwargs.get("command_packer"), CommandPacker)
    assert "command_packer" not in latin.connection_pool.connection_kwargs
