"""Parse and validate one JSON-RPC 2.0 message; build result and error objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mcp_resource.errors import InvalidParams, InvalidRequest, JsonRpcError, MessageId, ParseError
from shared import json_limits

VERSION = "2.0"


@dataclass(frozen=True)
class Message:
    """A request (method and id), a notification (method, no id) or a response from the client."""

    method: str | None
    id: MessageId | None = None
    params: dict[str, Any] = field(default_factory=dict)
    #: A response's `result` or `error` member, as {"result": ...} or {"error": ...} (a client
    #: answering a request of ours, mcp_resource/asking/); None for requests and notifications.
    answer: dict[str, Any] | None = None

    @property
    def is_request(self) -> bool:
        return self.method is not None and self.id is not None


def parse(body: bytes) -> Message:
    """One message per POST; batches and malformed envelopes are refused."""
    try:
        data = json_limits.loads(body)
    except json_limits.NestedTooDeep as error:
        raise ParseError(f"Parse error: the body is {error}.") from None
    except ValueError:  # UnicodeDecodeError is one too
        raise ParseError("Parse error: the body is not valid JSON.") from None
    if isinstance(data, list):
        raise InvalidRequest("Batches are not supported: send one JSON-RPC message per request.")
    if not isinstance(data, dict) or data.get("jsonrpc") != VERSION:
        raise InvalidRequest('Invalid request: expected a JSON object with "jsonrpc": "2.0".')
    message_id = _message_id(data)
    if "method" not in data:
        if message_id is not None and ("result" in data or "error" in data):
            answer = {"result": data["result"]} if "result" in data else {"error": data["error"]}
            return Message(method=None, id=message_id, answer=answer)
        raise InvalidRequest('Invalid request: "method" is missing.', message_id=message_id)
    method = data["method"]
    if not isinstance(method, str) or not method:
        raise InvalidRequest('Invalid request: "method" must be a non-empty string.', message_id=message_id)
    params = data.get("params", {})
    if not isinstance(params, dict):
        raise InvalidParams('Invalid params: "params" must be an object.', message_id=message_id)
    return Message(method=method, id=message_id, params=params)


def _message_id(data: dict[str, Any]) -> MessageId | None:
    if "id" not in data:
        return None
    value = data["id"]
    # MCP: ids are strings or integers, never null (bool is an int in Python, not in JSON).
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidRequest('Invalid request: "id" must be a string or an integer.')
    return value


def success(message_id: MessageId, result: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": VERSION, "id": message_id, "result": result}


def failure(error: JsonRpcError, reference: str, message_id: MessageId | None = None) -> dict[str, Any]:
    """The error response; to the request `message_id`, or the one the error names. `reference`
    (the request id) is what the client is given of an error not exposed."""
    body: dict[str, Any] = {"code": error.code, "message": error.shown(reference)}
    if error.data is not None:
        body["data"] = error.data
    response: dict[str, Any] = {"jsonrpc": VERSION, "error": body}
    answered = message_id if message_id is not None else error.message_id
    if answered is not None:
        response["id"] = answered
    return response
