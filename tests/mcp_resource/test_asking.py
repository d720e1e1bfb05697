"""Issue #23, asking the client in 2026-07-28 (multi-round-trip requests, basic/patterns/mrtr.mdx)
and the rules around it, in process: the requestState's every refusal, answers carried from round to
round, capabilities (-32021), and the tasks extension's methods for clients that did not declare it."""

from __future__ import annotations

import base64
import json

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from mcp_resource.asking import request_state
from mcp_resource.models import AuditRecord
from shared.db import db
from tests.factories import sign, valid_claims
from tests.mcp_http import modern_body, modern_headers

SCOPES = "conformance:run"
ASKING = {"elicitation": {}, "sampling": {}, "roots": {}}
CONFIRMED = {"confirm": {"action": "accept", "content": {"ok": True}}}


@pytest.fixture
def http(mcp_app) -> FlaskClient:
    return mcp_app.test_client()


@pytest.fixture
def claims(settings, auth_context) -> dict:
    return valid_claims(settings, scope=SCOPES)


@pytest.fixture
def token(claims) -> str:
    return sign(claims)


def call(http: FlaskClient, token: str, name: str, capabilities: dict | None = None, arguments: dict | None = None, **params):
    """A tools/call in 2026-07-28 and its one JSON-RPC response (taken from its stream if it has one)."""
    body = modern_body("tools/call", {"name": name, "arguments": arguments or {}, **params})
    body["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"] = ASKING if capabilities is None else capabilities
    response = http.post("/mcp", data=json.dumps(body), headers=modern_headers(body, token))
    if response.mimetype == "text/event-stream":
        lines = [line[len("data: "):] for line in response.get_data(as_text=True).splitlines() if line.startswith("data: ")]
        return response.status_code, json.loads(lines[-1])
    return response.status_code, response.json


def first_round(http, token, name="test_input_required_result_request_state"):
    status, answer = call(http, token, name)
    assert status == 200 and answer["result"]["resultType"] == "input_required"
    return answer["result"]


def refusal(message: str) -> tuple[int, dict]:
    return 400, {"code": -32602, "message": f"Invalid params: {message}"}


def error_of(answer: tuple[int, dict]) -> tuple[int, dict]:
    return answer[0], answer[1]["error"]


def test_a_question_ends_the_round_with_input_required_and_a_sealed_state(http, token):
    """mrtr.mdx: an InputRequiredResult holds the requests and, here, a requestState; the server
    "MUST include at least one of `inputRequests` or `requestState`"."""
    result = first_round(http, token)

    assert result["inputRequests"] == {
        "confirm": {
            "method": "elicitation/create",
            "params": {"message": "Please confirm", "requestedSchema": {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}},
        }
    }
    assert result["requestState"].count(".") == 1
    assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "drawbridge"


def test_answers_of_earlier_rounds_travel_in_the_state(http, token):
    state1 = first_round(http, token, "test_input_required_result_multi_round")["requestState"]
    _, second = call(http, token, "test_input_required_result_multi_round", inputResponses={"step1": {"action": "accept", "content": {"name": "Ada"}}}, requestState=state1)
    state2 = second["result"]["requestState"]
    _, done = call(http, token, "test_input_required_result_multi_round", inputResponses={"step2": {"action": "accept", "content": {"color": "red"}}}, requestState=state2)

    assert list(second["result"]["inputRequests"]) == ["step2"]
    assert done["result"]["content"][0]["text"] == "Ada likes red."


def test_a_retry_without_the_answer_is_asked_again(http, token):
    """mrtr.mdx Error Handling: the server "SHOULD respond with a new InputRequiredResult requesting
    the missing information again, rather than returning an error"; unknown keys are ignored."""
    state = first_round(http, token)["requestState"]
    _, again = call(http, token, "test_input_required_result_request_state", inputResponses={"wrong_key": {"action": "accept"}}, requestState=state)

    assert again["result"]["resultType"] == "input_required"
    assert list(again["result"]["inputRequests"]) == ["confirm"]


@pytest.mark.parametrize("responses", [None, 12345, {"confirm": 12345}, {"confirm": "yes"}])
def test_input_responses_that_are_not_results_are_refused(http, token, responses):
    """mrtr.mdx Error Handling: servers SHOULD validate that the client sent a valid InputResponses
    object; protocol errors SHOULD be JSON-RPC errors."""
    status, answer = call(http, token, "test_input_required_result_request_state", inputResponses=responses)

    assert (status, answer["error"]["code"]) == (400, -32602)
    assert answer["error"]["message"] == 'Invalid params: "inputResponses" must be an object of results, keyed as the inputRequests were.'


def test_a_tampered_state_is_refused_and_audited(http, token, claims, mcp_app):
    """mrtr.mdx Server Requirements 4: servers "MUST treat `requestState` as an attacker-controlled
    input ... MUST protect its integrity (e.g. HMAC or AEAD) and MUST reject state that fails
    verification". Answers written into a state keep its old MAC, and fail."""
    body, mac = first_round(http, token)["requestState"].split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["answers"] = CONFIRMED
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()

    answer = call(http, token, "test_input_required_result_request_state", inputResponses={}, requestState=f"{forged}.{mac}")

    assert error_of(answer) == refusal("requestState failed its integrity check; echo it exactly as it was sent.")
    with mcp_app.app_context():
        rows = db.session.scalars(select(AuditRecord).where(AuditRecord.client_id == claims["client_id"]).order_by(AuditRecord.id)).all()
    assert [(r.outcome, r.error) for r in rows] == [
        ("ok", "input required"),
        ("invalid", "Invalid params: requestState failed its integrity check; echo it exactly as it was sent."),
    ]


def test_a_state_presented_by_another_client_is_refused(http, token, settings):
    """mrtr.mdx Server Requirements 5: include "the authenticated principal, rejecting state presented
    by a different principal"."""
    state = first_round(http, token)["requestState"]
    other = sign(valid_claims(settings, scope=SCOPES))

    answer = call(http, other, "test_input_required_result_request_state", inputResponses=CONFIRMED, requestState=state)

    assert error_of(answer) == refusal("this requestState was issued to another client or person.")


def test_a_state_presented_on_another_request_is_refused(http, token):
    """mrtr.mdx Server Requirements 5: include "an identifier for the originating request ...
    rejecting state presented on a request that does not match"."""
    state = first_round(http, token, "test_input_required_result_multi_round")["requestState"]

    answer = call(http, token, "test_input_required_result_multi_round", arguments={"extra": 1}, inputResponses={}, requestState=state)
    other_tool = call(http, token, "test_input_required_result_request_state", inputResponses=CONFIRMED, requestState=state)

    assert error_of(answer) == refusal("this requestState was issued for another request; retry the original request unchanged.")
    assert error_of(other_tool) == error_of(answer)


def test_an_expired_state_is_refused(http, token, monkeypatch):
    """mrtr.mdx Server Requirements 5: include "a short expiry (TTL), rejecting state presented after it lapses"."""
    monkeypatch.setattr(request_state, "STATE_TTL_SECONDS", 0)  # sealed already lapsed
    state = first_round(http, token)["requestState"]

    answer = call(http, token, "test_input_required_result_request_state", inputResponses=CONFIRMED, requestState=state)

    assert error_of(answer) == refusal("this requestState has expired; send the request again without it.")


def test_a_state_is_good_for_one_retry(http, token):
    """mrtr.mdx Server Requirements 5: "Servers for which a given `requestState` must be consumed at
    most once ... MUST enforce that invariant server-side" (ours: one Redis SET NX per state)."""
    state = first_round(http, token)["requestState"]

    _, retry = call(http, token, "test_input_required_result_request_state", inputResponses=CONFIRMED, requestState=state)
    replay = call(http, token, "test_input_required_result_request_state", inputResponses=CONFIRMED, requestState=state)

    assert retry["result"]["content"][0]["text"] == "state-ok: confirmed=True"
    assert error_of(replay) == refusal("this requestState was used already; each one is good for one retry.")


def test_only_declared_capabilities_are_asked(http, token):
    """mrtr.mdx: "Servers MUST NOT send an inputRequests that the client has not declared support
    for in its capabilities"; a tool that cannot do without it is refused with basic/index.mdx's
    MissingRequiredClientCapabilityError, -32021."""
    _, sampling_only = call(http, token, "test_input_required_result_capabilities", capabilities={"sampling": {}})
    refused = call(http, token, "test_input_required_result_elicitation", capabilities={"sampling": {}})

    assert [r["method"] for r in sampling_only["result"]["inputRequests"].values()] == ["sampling/createMessage"]
    assert refused[1]["error"] == {
        "code": -32021,
        "message": "This tool needs to ask the client, which did not declare the capability: elicitation.",
        "data": {"requiredCapabilities": {"elicitation": {}}},
    }


@pytest.mark.parametrize("method", ["tasks/get", "tasks/update", "tasks/cancel"])
def test_the_tasks_methods_refuse_a_client_without_the_extension(http, token, method):
    """basic/index.mdx: a request that needs a capability the client did not declare gets
    MissingRequiredClientCapabilityError (-32021, HTTP 400); the tasks extension is used only by
    clients that declare `io.modelcontextprotocol/tasks` in `capabilities.extensions`."""
    body = modern_body(method, {"taskId": "0" * 32})
    response = http.post("/mcp", data=json.dumps(body), headers=modern_headers(body, token))

    assert response.status_code == 400
    assert response.json["error"] == {
        "code": -32021,
        "message": "The tasks methods need the io.modelcontextprotocol/tasks extension in the request's client capabilities.",
        "data": {"requiredCapabilities": {"extensions": {"io.modelcontextprotocol/tasks": {}}}},
    }


def test_a_prompt_may_ask_too(http, token):
    """mrtr.mdx Supported Requests: prompts/get may answer with an InputRequiredResult, and its
    retry with the answers gets the prompt's messages."""
    def get(**params):
        body = modern_body("prompts/get", {"name": "test_input_required_result_prompt", **params})
        body["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"] = ASKING
        return http.post("/mcp", data=json.dumps(body), headers=modern_headers(body, token)).json["result"]

    first = get()
    done = get(inputResponses={"user_context": {"action": "accept", "content": {"context": "a shop"}}}, requestState=first["requestState"])

    assert (first["resultType"], list(first["inputRequests"])) == ("input_required", ["user_context"])
    assert done["messages"] == [{"role": "user", "content": {"type": "text", "text": "Use this context: a shop"}}]
