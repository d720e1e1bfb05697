"""Issue #23, asking the client mid-call, against a live MCP server of two gunicorn workers: the
2025-era answer POSTed to whichever worker reaches the tool waiting on the other; the official SDK
client answering elicitation and sampling in both eras; the ends of a call whose client does not
answer or cancels; 2026-07-28 requestState refused when tampered with or replayed."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from mcp import Client, types
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from sqlalchemy import select

from mcp_resource.models import AuditRecord
from shared.db import db
from tests import live
from tests.conftest import ARTIFACTS, Live
from tests.e2e.worker_pids import WORKER_PID_HEADER
from tests.factories import fetch_token, make_client
from tests.mcp_http import LEGACY, modern_body, modern_headers

pytestmark = pytest.mark.usefixtures("live_services")

WORKERS = 2
ANSWER_TIMEOUT_SECONDS = 3
SCOPES = "conformance:run"
ASKING_CAPABILITIES = {"elicitation": {}, "sampling": {}, "roots": {}}


@pytest.fixture(scope="module")
def two_workers(live_services: Live) -> Iterator[str]:
    """The MCP server with WORKERS workers, each response naming its worker; the tokens' audience
    is the live services' resource URL, which this server also calls itself."""
    env = {
        **live_services.env,
        "DRAWBRIDGE_MCP_WORKERS": str(WORKERS),
        "DRAWBRIDGE_CLIENT_ANSWER_TIMEOUT_SECONDS": str(ANSWER_TIMEOUT_SECONDS),
        "DRAWBRIDGE_SSE_KEEPALIVE_SECONDS": "1",
    }
    port = live.free_port()
    env["DRAWBRIDGE_ALLOWED_ORIGINS"] = f"http://127.0.0.1:{port}"
    server = live.start("tests.e2e.worker_pids:create_app()", "deploy/gunicorn_mcp.py", port, env, ARTIFACTS / "mcp-two-workers.log")
    yield f"{server.url}/mcp"
    server.stop()


@pytest.fixture
def caller(auth_context):
    return make_client(scope=SCOPES, rate_limit=1_000_000)


@pytest.fixture
def token(settings, caller) -> str:
    return fetch_token(settings, caller)


class LegacySession:
    """A 2025-11-25 session over plain HTTP; each request on a connection of its own unless given one."""

    def __init__(self, url: str, token: str, capabilities: dict[str, Any]) -> None:
        self.url, self.token = url, token
        params = {"protocolVersion": LEGACY, "capabilities": capabilities, "clientInfo": {"name": "tests", "version": "1"}}
        answer = self.post({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params})
        self.session_id = answer.headers["Mcp-Session-Id"]
        assert self.post({"jsonrpc": "2.0", "method": "notifications/initialized"}).status_code == 202

    def headers(self, **extra: str) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json, text/event-stream", "MCP-Protocol-Version": LEGACY}
        if hasattr(self, "session_id"):
            headers["Mcp-Session-Id"] = self.session_id
        return {**headers, **extra}

    def post(self, body: dict[str, Any], http: httpx.Client | None = None) -> httpx.Response:
        if http is None:
            return httpx.post(self.url, json=body, headers=self.headers(), timeout=10)
        return http.post(self.url, json=body, headers=self.headers(), timeout=10)

    def call(self, http: httpx.Client, name: str, arguments: dict[str, Any], request_id: str) -> Iterator[Any]:
        """A tools/call answered on an SSE stream: its response first (for its headers), then each message."""
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": arguments}}
        with http.stream("POST", self.url, json=body, headers=self.headers(**{"X-Request-Id": request_id}), timeout=30) as response:
            yield response
            for line in response.iter_lines():
                if line.startswith("data:") and line[5:].strip():
                    yield json.loads(line[5:])


def connection_to_another_worker(probe: Callable[[httpx.Client], httpx.Response], pid: str) -> tuple[httpx.Client, str]:
    """A kept-alive connection that a worker other than `pid` serves (the kernel spreads new
    connections over the workers; each connection stays with the worker that accepted it)."""
    for _ in range(50):
        http = httpx.Client(limits=httpx.Limits(max_connections=1))
        served_by = probe(http).headers[WORKER_PID_HEADER]
        if served_by != pid:
            return http, served_by
        http.close()
    raise AssertionError(f"every connection went to worker {pid}")


def audit_rows(auth_app, client_id: str) -> list[AuditRecord]:
    time.sleep(0.5)  # the audit writer commits before the answer leaves; the query is just later
    with auth_app.app_context():
        return list(db.session.scalars(select(AuditRecord).where(AuditRecord.client_id == client_id)).all())


def test_an_answer_posted_to_another_worker_reaches_the_waiting_tool(two_workers, token, caller, auth_app):
    """2025-11-25: the elicitation request goes out on the call's stream, held by one worker; the
    client's response, POSTed on a connection another worker serves, reaches the waiting tool."""
    session = LegacySession(two_workers, token, ASKING_CAPABILITIES)
    with httpx.Client() as stream_http:
        messages = session.call(stream_http, "test_elicitation", {"message": "Who are you?"}, uuid.uuid4().hex)
        response = next(messages)
        call_worker = response.headers[WORKER_PID_HEADER]
        asked = next(m for m in messages if m.get("method") == "elicitation/create")
        answer_http, answer_worker = connection_to_another_worker(lambda http: session.post({"jsonrpc": "2.0", "id": "probe", "method": "ping"}, http), call_worker)
        content = {"username": "ada", "email": "ada@example.com"}
        try:
            posted = session.post({"jsonrpc": "2.0", "id": asked["id"], "result": {"action": "accept", "content": content}}, answer_http)
        finally:
            answer_http.close()
        final = next(m for m in messages if m.get("id") == 1)

    assert answer_worker != call_worker
    assert (posted.status_code, posted.headers[WORKER_PID_HEADER]) == (202, answer_worker)
    assert asked["params"]["message"] == "Who are you?"
    assert final["result"]["isError"] is False
    assert final["result"]["content"][0]["text"] == f"User response: action=accept, content={json.dumps(content)}"
    assert [(r.tool, r.outcome) for r in audit_rows(auth_app, caller.client.client_id)] == [("test_elicitation", "ok")]


def test_a_client_that_never_answers_gets_an_error_result_once_the_wait_ends(two_workers, token, caller, auth_app):
    """The tool waits DRAWBRIDGE_CLIENT_ANSWER_TIMEOUT_SECONDS, tells the client to stop asking
    (notifications/cancelled for its request) and ends the call with an isError result, audited once."""
    session = LegacySession(two_workers, token, ASKING_CAPABILITIES)
    started = time.monotonic()
    with httpx.Client() as http:
        messages = list(session.call(http, "test_sampling", {"prompt": "Say hi"}, uuid.uuid4().hex))[1:]
    asked = next(m for m in messages if m.get("method") == "sampling/createMessage")
    withdrawn = next(m for m in messages if m.get("method") == "notifications/cancelled")
    final = messages[-1]

    assert time.monotonic() - started >= ANSWER_TIMEOUT_SECONDS
    assert withdrawn["params"]["requestId"] == asked["id"]
    assert final["result"]["isError"] is True
    assert final["result"]["content"][0]["text"] == f"The client did not answer the sampling/createMessage request within {ANSWER_TIMEOUT_SECONDS} seconds."
    assert [(r.tool, r.outcome) for r in audit_rows(auth_app, caller.client.client_id)] == [("test_sampling", "tool_error")]
    late = session.post({"jsonrpc": "2.0", "id": asked["id"], "result": {"role": "assistant", "content": {"type": "text", "text": "hi"}, "model": "m"}})
    assert late.status_code == 202  # a late answer is dropped, as a stray response is


def test_a_call_cancelled_while_it_waits_ends_without_a_response(two_workers, token, caller, auth_app):
    """2025-11-25 cancellation (notifications/cancelled, POSTed to any worker) ends a call waiting for
    the client's answer: the stream ends without a response, and the audit row says cancelled."""
    session = LegacySession(two_workers, token, ASKING_CAPABILITIES)
    with httpx.Client() as http:
        messages = session.call(http, "test_elicitation", {"message": "Wait"}, uuid.uuid4().hex)
        next(messages)
        next(m for m in messages if m.get("method") == "elicitation/create")
        session.post({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}})
        rest = list(messages)

    assert not [m for m in rest if m.get("id") == 1]
    rows = audit_rows(auth_app, caller.client.client_id)
    assert [(r.tool, r.outcome, r.error) for r in rows] == [("test_elicitation", "failed", "cancelled by the client")]


def test_a_client_without_the_capability_is_not_asked(two_workers, token):
    """2025-11-25 defines no error code for it (-32021 is 2026-07-28's): the call ends with an
    isError result that names the capability, and nothing is asked."""
    session = LegacySession(two_workers, token, {})
    with httpx.Client() as http:
        messages = list(session.call(http, "test_sampling", {"prompt": "Say hi"}, uuid.uuid4().hex))[1:]

    assert [m.get("method") for m in messages if "method" in m] == []
    assert messages[-1]["result"]["isError"] is True
    assert messages[-1]["result"]["content"][0]["text"] == "This tool needs to ask the client, which did not declare the capability: sampling."


@pytest.mark.parametrize(("mode", "era"), [("auto", "2026-07-28"), ("legacy", "2025-11-25")])
def test_the_sdk_client_answers_a_tool_that_elicits_and_samples(settings, two_workers, token, mode, era):
    """The official SDK client with elicitation, sampling and roots callbacks: in 2025-11-25 the
    tool's requests come on its stream; in 2026-07-28 as an input-required result the SDK answers
    and retries with. Either way the tool completes with the answers."""
    asked: list[str] = []

    async def elicit(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(f"elicit: {params.message}")
        values = {"name": "Ada", "color": "green"}
        return types.ElicitResult(action="accept", content={field: values[field] for field in params.requested_schema["properties"]})

    async def sample(context: Any, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
        asked.append("sample")
        return types.CreateMessageResult(role="assistant", content=types.TextContent(type="text", text="Good day"), model="test-model")

    async def roots(context: Any) -> types.ListRootsResult:
        asked.append("roots")
        return types.ListRootsResult(roots=[types.Root(uri="file:///work", name="work")])

    async def session() -> tuple[str, str, str]:
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
        client = Client(
            streamable_http_client(two_workers, http_client=http),
            mode=mode,
            elicitation_callback=elicit,
            sampling_callback=sample,
            list_roots_callback=roots,
        )
        async with client:
            both = await client.call_tool("test_input_required_result_multiple_inputs", {})
            rounds = await client.call_tool("test_input_required_result_multi_round", {})
            return client.protocol_version, both.content[0].text, rounds.content[0].text

    version, both, rounds = asyncio.run(session())

    assert version == era
    assert both == "Good day, Ada (1 roots)"
    assert rounds == "Ada likes green."
    assert sorted(set(asked)) == ["elicit: Step 1: What is your name?", "elicit: Step 2: What is your favorite color?", "elicit: What is your name?", "roots", "sample"]


def modern_call(url: str, token: str, name: str, http: httpx.Client | None = None, **params: Any) -> tuple[httpx.Response, dict[str, Any]]:
    """A 2026-07-28 tools/call and its one response (JSON, or the last event of its SSE stream)."""
    body = modern_body("tools/call", {"name": name, "arguments": {}, **params})
    body["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"] = ASKING_CAPABILITIES
    response = (http or httpx).post(url, json=body, headers=modern_headers(body, token), timeout=10)
    if response.headers["Content-Type"].startswith("text/event-stream"):
        events = [line[5:] for line in response.text.splitlines() if line.startswith("data:") and line[5:].strip()]
        return response, json.loads(events[-1])
    return response, response.json()


def test_a_replayed_request_state_is_refused(two_workers, token):
    """MRTR, Server Requirements 5: "Servers for which a given `requestState` must be consumed at most
    once ... MUST enforce that invariant server-side." Ours are single-use: a retry spends its state,
    whichever worker gets it, and the same state again is -32602."""
    first = modern_call(two_workers, token, "test_input_required_result_request_state")[1]["result"]
    state, answers = first["requestState"], {"confirm": {"action": "accept", "content": {"ok": True}}}

    retry = modern_call(two_workers, token, "test_input_required_result_request_state", inputResponses=answers, requestState=state)
    other, other_worker = connection_to_another_worker(lambda http: rpc(two_workers, token, "server/discover", http), retry[0].headers[WORKER_PID_HEADER])
    try:
        replays = [
            modern_call(two_workers, token, "test_input_required_result_request_state", other, inputResponses=answers, requestState=state),
            modern_call(two_workers, token, "test_input_required_result_request_state", inputResponses=answers, requestState=state),
        ]
    finally:
        other.close()

    assert retry[1]["result"]["content"][0]["text"] == "state-ok: confirmed=True"
    assert replays[0][0].headers[WORKER_PID_HEADER] == other_worker != retry[0].headers[WORKER_PID_HEADER]
    for response, replay in replays:
        assert response.status_code == 400
        assert replay["error"] == {"code": -32602, "message": "Invalid params: this requestState was used already; each one is good for one retry."}


def rpc(url: str, token: str, method: str, http: httpx.Client) -> httpx.Response:
    body = modern_body(method)
    return http.post(url, json=body, headers=modern_headers(body, token), timeout=10)


def test_a_tampered_request_state_is_refused(two_workers, token):
    """MRTR, Server Requirements 4: servers "MUST protect its integrity (e.g. HMAC or AEAD) and MUST
    reject state that fails verification"."""
    first = modern_call(two_workers, token, "test_input_required_result_tampered_state")[1]["result"]
    body, mac = first["requestState"].split(".")
    forged = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    forged["answers"] = {"confirm": {"action": "accept", "content": {"ok": True}}}
    forged_body = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()

    for state in (f"{forged_body}.{mac}", first["requestState"] + "-TAMPERED", "not a state"):
        response, refused = modern_call(two_workers, token, "test_input_required_result_tampered_state", inputResponses={}, requestState=state)
        assert response.status_code == 400
        assert refused["error"] == {"code": -32602, "message": "Invalid params: requestState failed its integrity check; echo it exactly as it was sent."}
