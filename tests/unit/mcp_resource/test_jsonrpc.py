"""One JSON-RPC message parsed, and error responses as the client sees them."""

from __future__ import annotations

import pytest

from mcp_resource import jsonrpc
from mcp_resource.errors import InternalError, InvalidParams, InvalidRequest, JsonRpcError, Unavailable


def test_a_fault_of_ours_shows_the_client_a_reference_and_never_its_message():
    """STYLE.md "Errors, mcp_resource": show client-error text, hide server-error text (as
    node-oidc-provider's `expose`); the reference finds the request's log lines."""
    answer = jsonrpc.failure(InternalError("psycopg: password authentication failed for drawbridge"), "req-7", 3)

    assert answer == {"jsonrpc": "2.0", "id": 3, "error": {"code": -32603, "message": "Internal error, reference req-7."}}


@pytest.mark.parametrize(
    "error",
    [InvalidParams("Unknown tool: x. Call tools/list for the tools you can use."), Unavailable("The database is unavailable; retry shortly.")],
    ids=["client-error", "unavailable"],
)
def test_an_error_written_for_the_client_is_shown_as_written(error: JsonRpcError):
    assert jsonrpc.failure(error, "req-7", 3)["error"]["message"] == error.message


def test_an_error_raised_where_the_request_id_is_known_answers_that_request():
    with pytest.raises(InvalidRequest) as raised:
        jsonrpc.parse(b'{"jsonrpc": "2.0", "id": 9, "method": ""}')

    assert jsonrpc.failure(raised.value, "req-7")["id"] == 9


@pytest.mark.parametrize(
    ("body", "answer"),
    [
        (b'{"jsonrpc": "2.0", "id": "drawbridge-1", "result": {"action": "decline"}}', {"result": {"action": "decline"}}),
        (b'{"jsonrpc": "2.0", "id": "drawbridge-1", "error": {"code": -1, "message": "no"}}', {"error": {"code": -1, "message": "no"}}),
    ],
    ids=["result", "error"],
)
def test_a_response_from_the_client_keeps_its_result_or_error(body: bytes, answer: dict):
    """A client's answer to a request of ours (elicitation, sampling) is a response: no method, and
    its `result` or `error` member kept for the tool waiting for it."""
    message = jsonrpc.parse(body)

    assert (message.method, message.id, message.is_request, message.answer) == (None, "drawbridge-1", False, answer)
