"""SIGTERM under load (#19 item 10): the MCP server stops taking connections, finishes the calls in
flight, ends its open streams with a retry hint, and exits within its graceful timeout; every call
that was answered 200 has its audit row."""

from __future__ import annotations

import signal
import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx

from tests.mcp_http import ACCEPT, modern_body, modern_headers

GRACEFUL_TIMEOUT_SECONDS = 10  # deploy/gunicorn_mcp.py
LOAD_THREADS = 6
# A call that takes about a second, so some are in flight when SIGTERM arrives.
SLOW_CALL = {"name": "test_tool_with_progress", "arguments": {"steps": 4, "step_seconds": 0.25}}
FAST_CALL = {"name": "list_posts", "arguments": {}}


@dataclass
class Call:
    request_id: str
    started: float
    status: int | None = None  # None: no response head at all (refused, or closed before it)
    failure: str | None = None  # set when the response broke after its head
    ended: float = 0.0
    retry_after: str | None = None


@dataclass
class Stream:
    kind: str
    received: str = ""
    status: int | None = None
    failure: str | None = None
    done: threading.Event = field(default_factory=threading.Event)


def _load(url: str, token: str, calls: list[Call], stop: threading.Event, slow: bool) -> None:
    """Tool calls back to back on one keep-alive connection (reopened as needed), until `stop`."""
    with httpx.Client(timeout=15) as client:
        while not stop.is_set():
            body = modern_body("tools/call", SLOW_CALL if slow else FAST_CALL)
            call = Call(uuid.uuid4().hex, time.monotonic())
            calls.append(call)
            try:
                with client.stream("POST", url, json=body, headers={**modern_headers(body, token), "X-Request-Id": call.request_id}) as answer:
                    call.status, call.retry_after = answer.status_code, answer.headers.get("Retry-After")
                    try:
                        answer.read()
                    except httpx.TransportError as broken:
                        call.failure = repr(broken)
            except httpx.TransportError:
                time.sleep(0.02)  # refused or closed before any answer: the client would go elsewhere
            call.ended = time.monotonic()


def _hold(stream: Stream, client: httpx.Client, method: str, url: str, **request: object) -> None:
    try:
        with client.stream(method, url, **request) as answer:
            stream.status = answer.status_code
            for text in answer.iter_text():
                stream.received += text
    except httpx.TransportError as broken:
        stream.failure = repr(broken)
    finally:
        stream.done.set()


def _open_streams(server_url: str, token: str) -> list[Stream]:
    """Two 2026-07-28 subscriptions/listen streams and one 2024-11-05 GET /sse."""
    client = httpx.Client(timeout=httpx.Timeout(5, read=30))
    held = []
    for _ in range(2):
        body = modern_body("subscriptions/listen", {"notifications": {"toolsListChanged": True}})
        held.append((Stream("subscriptions/listen"), "POST", f"{server_url}/mcp", {"json": body, "headers": modern_headers(body, token)}))
    held.append((Stream("GET /sse"), "GET", f"{server_url}/sse", {"headers": {"Authorization": f"Bearer {token}", "Accept": ACCEPT}}))
    for stream, method, url, request in held:
        threading.Thread(target=_hold, args=(stream, client, method, url), kwargs=request, daemon=True).start()
    deadline = time.monotonic() + 5
    while any(not s.received for s, *_ in held) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert all(s.received for s, *_ in held), [(s.kind, s.status, s.failure) for s, *_ in held]
    return [stream for stream, *_ in held]


def _legacy_call(server_url: str, token: str, sse: Stream) -> str:
    """A slow tools/call posted to the 2024-11-05 session of `sse` (answered 202); its request id."""
    endpoint = sse.received.split("data: ", 1)[1].split("\n", 1)[0]
    request_id = uuid.uuid4().hex
    body = {"jsonrpc": "2.0", "id": "legacy-in-flight", "method": "tools/call", "params": SLOW_CALL}
    headers = {"Authorization": f"Bearer {token}", "X-Request-Id": request_id}
    assert httpx.post(f"{server_url}{endpoint}", json=body, headers=headers, timeout=5).status_code == 202
    return request_id


def test_sigterm_under_load_finishes_calls_ends_streams_with_a_retry_hint_and_loses_no_audit_row(fault_stack):
    fault_stack.start_auth()
    mcp = fault_stack.start_mcp()
    token = fault_stack.token(fault_stack.machine_client("posts:read conformance:run", rate_limit=100_000))
    streams = _open_streams(mcp.url, token)
    calls: list[Call] = []
    stop_load = threading.Event()
    load = [threading.Thread(target=_load, args=(f"{mcp.url}/mcp", token, calls, stop_load, n % 2 == 0), daemon=True) for n in range(LOAD_THREADS)]
    for thread in load:
        thread.start()
    time.sleep(1.5)

    legacy_call = _legacy_call(mcp.url, token, streams[-1])
    mcp.process.send_signal(signal.SIGTERM)
    terminated = time.monotonic()
    mcp.process.wait(timeout=GRACEFUL_TIMEOUT_SECONDS + 5)
    exited_after = time.monotonic() - terminated
    stop_load.set()
    for thread in load:
        thread.join(timeout=20)
    for stream in streams:
        stream.done.wait(timeout=5)

    answered = [c for c in calls if c.status == 200 and c.failure is None]
    in_flight_finished = [c for c in answered if c.started < terminated < c.ended]
    broken = [(c.status, c.failure) for c in calls if c.failure is not None]
    unexpected = [(c.status, c.retry_after) for c in calls if c.status not in (None, 200) and not (c.status == 503 and c.retry_after)]
    audited = {request_id for (request_id,) in fault_stack.sql("SELECT request_id FROM audit_records WHERE request_id = ANY(%s)", [c.request_id for c in answered])}
    legacy_audited = fault_stack.sql("SELECT outcome FROM audit_records WHERE request_id = %s", legacy_call)

    assert exited_after < GRACEFUL_TIMEOUT_SECONDS, f"exited {exited_after:.1f} s after SIGTERM"
    assert in_flight_finished, "no call in flight at SIGTERM was finished"
    assert broken == [], "responses broken after their head"
    assert unexpected == [], "answers other than 200 or 503 with Retry-After"
    assert len(answered) > 20 and {c.request_id for c in answered} <= audited, f"{len(answered) - len(audited)} of {len(answered)} answered calls have no audit row"
    for stream in streams:
        assert stream.failure is None and stream.status == 200, (stream.kind, stream.status, stream.failure)
        assert "\nretry: " in stream.received or stream.received.startswith("retry: "), (stream.kind, stream.received[-200:])
    # The 2024-11-05 call in flight at SIGTERM: its answer reached the stream before the retry hint.
    answer, hint = streams[-1].received.find('"id":"legacy-in-flight"'), streams[-1].received.rfind("retry: ")
    assert 0 < answer < hint and legacy_audited == [("ok",)], (streams[-1].received[-300:], legacy_audited)
