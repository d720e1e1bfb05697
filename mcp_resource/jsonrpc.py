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
            return Message(method=None, id=message_id)
        raise _with_id(InvalidRequest('Invalid request: "method" is missing.'), message_id)
    method = data["method"]
    if not isinstance(method, str) or not method:
        raise _with_id(InvalidRequest('Invalid request: "method" must be a non-empty string.'), message_id)
    params = data.get("params", {})
    if not isinstance(params, dict):
        raise _with_id(InvalidParams('Invalid params: "params" must be an object.'), message_id)
    return Message(method=method, id=message_id, params=params)


def reply_to(message: Message | None, error: Exception) -> None:
    """`error` answers `message`: a JSON-RPC error carries the message's id."""
    if isinstance(error, JsonRpcError) and error.message_id is None and message is not None:
        error.message_id = message.id


def _message_id(data: dict[str, Any]) -> MessageId | None:
    if "id" not in data:
        return None
    value = data["id"]
    # MCP: ids are strings or integers, never null (bool is an int in Python, not in JSON).
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidRequest('Invalid request: "id" must be a string or an integer.')
    return value


def _with_id(error: JsonRpcError, message_id: MessageId | None) -> JsonRpcError:
    error.message_id = message_id
    return error


def success(message_id: MessageId, result: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": VERSION, "id": message_id, "result": result}


def failure(error: JsonRpcError) -> dict[str, Any]:
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.data is not None:
        body["data"] = error.data
    response: dict[str, Any] = {"jsonrpc": VERSION, "error": body}
    if error.message_id is not None:
        response["id"] = error.message_id
    return response
