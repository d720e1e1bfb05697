"""A burst of streams on a Redis-backed worker (issue #19 item 2): opening shares the worker's
pipeline with concurrent requests instead of a pooled connection per command, and the open streams'
leases and sessions are renewed together, once per keep-alive interval, not one round trip per
stream."""

from __future__ import annotations

import asyncio
import math
import time

import redis

from mcp_resource.guardrails.streams import RENEW_SLOTS_PER_SCRIPT
from tests.faults.conftest import FaultStack

BURST = 500  # one caller's 2024-11-05 streams, opened at once
KEEPALIVE_SECONDS = 1
HOLD_SECONDS = 4.0
# The worker's Redis connections while the burst opens: the pipeline's, the event listener's, the
# renewals' and a few for the background loops; not one per request in flight.
FEW_CONNECTIONS = 12


class Streams:
    """BURST raw GET /sse streams of one token, held open and counted from one asyncio loop."""

    def __init__(self, port: int, token: str) -> None:
        self.request = f"GET /sse HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n".encode()
        self.port = port
        self.statuses: list[bytes] = []
        self.endpoints = 0
        self.keepalives: list[int] = [0] * BURST

    async def hold(self, index: int, opened: asyncio.Event, release: asyncio.Event) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.write(self.request)
        self.statuses.append((await reader.readline()).split(b" ")[1])
        while not release.is_set():
            try:
                line = await asyncio.wait_for(reader.readline(), timeout=0.5)
            except asyncio.TimeoutError:
                continue
            if not line:
                break
            if line.startswith(b"data: /messages"):
                self.endpoints += 1
                if self.endpoints == BURST:
                    opened.set()
            elif line.startswith(b": keep-alive") and opened.is_set():
                self.keepalives[index] += 1
        writer.close()


def redis_stats(client: redis.Redis) -> tuple[int, int]:
    """Connections Redis has accepted so far, and EVALSHA calls it has run."""
    evalsha = client.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0)
    return client.info("stats")["total_connections_received"], evalsha


def test_a_burst_of_streams_opens_on_few_connections_and_renews_in_one_round_trip(fault_stack: FaultStack):
    """Each command of an opening stream took a pooled connection of its own, so a burst of
    thousands waited past the pool's bound and got 503, and each open stream renewed its lease and
    session with two round trips per interval. Now 500 streams of one caller open at once on a
    dozen connections, and while they are held their leases are renewed by one script call per
    thousand slots per interval, and every stream keeps getting its keep-alives."""
    fault_stack.env.update({
        "DRAWBRIDGE_MAX_STREAMS_PER_CLIENT": str(BURST),
        "DRAWBRIDGE_MAX_SESSIONS_PER_CLIENT": str(BURST),
        "DRAWBRIDGE_SSE_KEEPALIVE_SECONDS": str(KEEPALIVE_SECONDS),
    })
    fault_stack.start_auth()
    server = fault_stack.start_mcp()
    streams = Streams(int(server.url.rsplit(":", 1)[1]), fault_stack.token(fault_stack.machine_client()))

    watcher = fault_stack.redis.client()

    async def burst() -> tuple[tuple[int, int], tuple[int, int], tuple[int, int], float]:
        opened, release = asyncio.Event(), asyncio.Event()
        before = redis_stats(watcher)
        tasks = [asyncio.create_task(streams.hold(i, opened, release)) for i in range(BURST)]
        await asyncio.wait_for(opened.wait(), timeout=20)
        at_open = redis_stats(watcher)
        started = time.monotonic()
        await asyncio.sleep(HOLD_SECONDS)
        held = redis_stats(watcher), time.monotonic() - started
        release.set()
        await asyncio.gather(*tasks)
        return before, at_open, *held

    before, at_open, after_hold, held_seconds = asyncio.run(burst())

    assert streams.statuses == [b"200"] * BURST
    assert at_open[0] - before[0] <= FEW_CONNECTIONS
    renewals_per_interval = math.ceil(BURST / RENEW_SLOTS_PER_SCRIPT)
    assert after_hold[1] - at_open[1] <= (held_seconds / KEEPALIVE_SECONDS + 1) * renewals_per_interval
    assert min(streams.keepalives) >= HOLD_SECONDS / KEEPALIVE_SECONDS - 2
    assert "Too many connections" not in server.log_path.read_text()
