"""Streams and bursts on a Redis-backed deployment (issue #19 items 2 and 9): more than a hundred
requests at once are served, not refused; streams read from Redis live through the production
keep-alive across two instances behind a round-robin nginx; a message for a session no stream
reads is refused, not answered to nobody."""

from __future__ import annotations

import json
import queue
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from shared import redis as drawbridge_redis
from tests import live
from tests.faults import proxy
from tests.faults.conftest import FaultStack, _port
from tests.mcp_http import modern_body, modern_headers

DEFAULT_KEEPALIVE_SECONDS = 15  # shared/settings.py: what production runs, and what these streams get
LEGACY = "2025-11-25"
ACCEPT = "application/json, text/event-stream"
MANY = 120  # past redis-py's default pool of 100 connections


class EventStream:
    """One SSE response, read line by line on its own thread."""

    def __init__(self, method: str, url: str, headers: dict[str, str], body: dict[str, Any] | None = None) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.opened = threading.Event()
        self.status = 0
        self.upstream = ""
        self.keepalives = 0
        self.last_id = ""
        self._response: httpx.Response | None = None
        threading.Thread(target=self._read, args=(method, url, headers, body), daemon=True).start()
        assert self.opened.wait(10), f"no answer to {method} {url}"

    def _read(self, method: str, url: str, headers: dict[str, str], body: dict[str, Any] | None) -> None:
        try:
            with httpx.stream(method, url, headers=headers, json=body, timeout=httpx.Timeout(10, read=60)) as response:
                self._response = response
                self.status, self.upstream = response.status_code, response.headers.get(proxy.UPSTREAM_HEADER, "")
                self.opened.set()
                for line in response.iter_lines():
                    self.lines.put(line)
        except httpx.HTTPError:
            pass  # closed by us, or by the server: the end below says so
        finally:
            self.opened.set()
            self.lines.put(None)

    def messages(self, timeout: float) -> Iterator[dict[str, Any]]:
        """Each JSON-RPC message as it arrives; fails if the stream ends or is silent past `timeout`."""
        while True:
            line = self.lines.get(timeout=timeout)
            assert line is not None, "the stream ended"
            if line.startswith(":"):
                self.keepalives += 1
            elif line.startswith("id: "):
                self.last_id = line[4:]
            elif line.startswith("data: {"):
                yield json.loads(line[6:])

    def endpoint(self) -> str:
        for _ in range(5):
            line = self.lines.get(timeout=10)
            if line is not None and line.startswith("data: /messages"):
                return line[6:]
        raise AssertionError("no endpoint event")

    def wait_for_keepalive(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.keepalives == 0:
            line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, "the stream ended before its keep-alive"
            assert not line.startswith("data:"), f"unexpected event {line}"
            self.keepalives += line.startswith(":")

    def close(self) -> None:
        if self._response is not None:
            self._response.close()


def start_instance(stack: FaultStack, name: str, env: dict[str, str] | None = None) -> live.LiveServer:
    """One more resource-server instance on its own port, on the stack's Redis and database."""
    server = live.start("mcp_resource:create_app()", "deploy/gunicorn_mcp.py", live.free_port(), {**stack.env, **(env or {})}, stack.log_dir / f"{name}.log")
    stack.extra_servers.append(server)
    return server


@pytest.fixture
def behind_proxy(fault_stack: FaultStack) -> Iterator[tuple[FaultStack, live.LiveServer]]:
    """Two resource-server instances at the default keep-alive behind a round-robin nginx on the
    stack's resource URL, and a third outside it at a 1 s keep-alive (so its sessions lapse in 4 s),
    for a test to kill. All start at once."""
    with ThreadPoolExecutor(4) as starting:
        started = [
            starting.submit(fault_stack.start_auth),
            *(starting.submit(start_instance, fault_stack, f"mcp_{n}") for n in "ab"),
            starting.submit(start_instance, fault_stack, "holder", {"DRAWBRIDGE_SSE_KEEPALIVE_SECONDS": "1"}),
        ]
        _, first, second, holder = (future.result() for future in started)
    nginx = proxy.start(_port(fault_stack.settings.resource_url), [first.url, second.url], fault_stack.log_dir / "nginx")
    yield fault_stack, holder
    nginx.stop()


def test_more_than_a_hundred_open_streams_and_simultaneous_calls_are_served(fault_stack):
    """redis-py's default pool refused the 101st connection, and each /sse stream held one while it
    waited: now streams hold none, and requests wait (bounded) for a free one instead of a 503."""
    caps = {"DRAWBRIDGE_MAX_STREAMS_PER_CLIENT": "1000", "DRAWBRIDGE_MAX_SESSIONS_PER_CLIENT": "1000"}
    fault_stack.env.update(caps)
    fault_stack.start_auth()
    server = fault_stack.start_mcp()
    token = fault_stack.token(fault_stack.machine_client())
    streams = [open_raw_sse(server.url, token) for _ in range(MANY)]

    heads = [read_head(stream) for stream in streams]
    connected = fault_stack.redis.client().info("clients")["connected_clients"]
    with ThreadPoolExecutor(MANY) as pool, httpx.Client(limits=httpx.Limits(max_connections=MANY), timeout=10) as client:
        statuses = list(pool.map(lambda _: tools_list(client, f"{server.url}/mcp", token), range(MANY)))

    assert [head.split(b" ", 2)[1] for head in heads] == [b"200"] * MANY
    assert connected <= drawbridge_redis.MAX_CONNECTIONS_PER_PROCESS + 10  # the pool is bounded (+ the authserver's)
    assert statuses == [200] * MANY
    assert "Too many connections" not in server.log_path.read_text()
    for stream in streams:
        stream.close()


def test_streams_read_from_redis_across_two_instances_behind_a_proxy(behind_proxy):
    """At the default keep-alive, a 2024-11-05 /sse stream and a 2025-11-25 resume (GET +
    Last-Event-ID) read the Redis event log on one instance while the messages are posted to, or
    the call runs on, the other; and once the instance holding a /sse stream dies, a message for its
    session is refused instead of answered to nobody."""
    stack, holder = behind_proxy
    url = stack.settings.resource_url
    auth = {"Authorization": f"Bearer {stack.token(stack.machine_client('posts:read conformance:run'))}"}
    with ThreadPoolExecutor(2) as background:
        resuming = background.submit(resume_a_slow_call, url, auth)
        refusing = background.submit(message_after_its_stream_died, holder, url.replace("/mcp", ""), auth)

        sse = EventStream("GET", url.replace("/mcp", "/sse"), {**auth, "Accept": "text/event-stream"})
        messages_url = url.replace("/mcp", "") + sse.endpoint()
        sse.wait_for_keepalive(DEFAULT_KEEPALIVE_SECONDS + 3)  # 15 s of silence, where it died after 2 s
        posted_to: set[str] = set()
        answers: list[dict[str, Any]] = []
        for message_id in range(1, 5):
            posted = httpx.post(messages_url, json={"jsonrpc": "2.0", "id": message_id, "method": "ping"}, headers=auth, timeout=10)
            assert posted.status_code == 202
            posted_to.add(posted.headers[proxy.UPSTREAM_HEADER])
            answers.append(next(sse.messages(timeout=5)))
        resumed, refused = resuming.result(timeout=30), refusing.result(timeout=30)
        sse.close()

    assert posted_to - {sse.upstream}, "no message went to the instance not holding the stream"
    assert [answer["id"] for answer in answers] == [1, 2, 3, 4]
    assert resumed["upstream"] != resumed["call_upstream"]
    assert resumed["progress"] == pytest.approx([100 / 3, 200 / 3, 100])
    assert resumed["result"]["content"][0]["text"] == "Progress tool finished after 3 steps."
    assert refused.status_code == 404
    assert "no stream is reading it" in refused.json()["error"]["message"]


def resume_a_slow_call(url: str, auth: dict[str, str]) -> dict[str, Any]:
    """A call whose events come 5 s apart, dropped after its first event and resumed through the
    proxy on the other instance than the one running it."""
    headers = {**auth, "Accept": ACCEPT, "MCP-Protocol-Version": LEGACY}
    init = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": LEGACY, "capabilities": {}}}
    headers["Mcp-Session-Id"] = httpx.post(url, json=init, headers=headers, timeout=10).headers["Mcp-Session-Id"]
    params = {"name": "test_tool_with_progress", "arguments": {"steps": 3, "step_seconds": 5}, "_meta": {"progressToken": "slow"}}
    call = EventStream("POST", url, headers, {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": params})
    assert next(call.messages(timeout=10))["params"]["progress"] == 0
    call.close()
    for _ in range(4):  # round robin: the next GET may land on the calling instance again
        stream = EventStream("GET", url, {**headers, "Accept": "text/event-stream", "Last-Event-ID": call.last_id})
        if stream.upstream != call.upstream:
            break
        stream.close()
    assert stream.status == 200
    progress, result = [], None
    for message in stream.messages(timeout=DEFAULT_KEEPALIVE_SECONDS + 3):
        if "result" in message:
            result = message["result"]
            break
        progress.append(message["params"]["progress"])
    stream.close()
    return {"call_upstream": call.upstream, "upstream": stream.upstream, "progress": progress, "result": result}


def message_after_its_stream_died(holder: live.LiveServer, proxy_url: str, auth: dict[str, str]) -> httpx.Response:
    """A /sse stream on `holder`, messages through the proxy answered on it; then `holder` dies
    (kill -9): the answer to the messages that follow, once its session had time to lapse."""
    sse = EventStream("GET", f"{holder.url}/sse", {**auth, "Accept": "text/event-stream"})
    messages_url = proxy_url + sse.endpoint()
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    assert httpx.post(messages_url, json=ping, headers=auth, timeout=10).status_code == 202
    assert next(sse.messages(timeout=5))["id"] == 1
    holder.crash()
    deadline = time.monotonic() + 4 * 1 + 3  # the stream's lease: four keep-alive intervals
    while (answer := httpx.post(messages_url, json=ping, headers=auth, timeout=10)).status_code == 202:
        assert time.monotonic() < deadline, "messages still accepted for a session no stream reads"
        time.sleep(0.5)
    return answer


def tools_list(client: httpx.Client, url: str, token: str) -> int:
    body = modern_body("tools/list")
    return client.post(url, json=body, headers=modern_headers(body, token)).status_code


def open_raw_sse(base_url: str, token: str) -> socket.socket:
    port = int(base_url.rsplit(":", 1)[1])
    connection = socket.create_connection(("127.0.0.1", port), timeout=10)
    connection.sendall(f"GET /sse HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n".encode())
    return connection


def read_head(connection: socket.socket) -> bytes:
    said = b""
    while b"\r\n\r\n" not in said and (chunk := connection.recv(4096)):
        said += chunk
    return said


