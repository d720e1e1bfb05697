"""Errors of the resource server: JSON-RPC errors, OAuth bearer challenges, and tool failures.

Each JSON-RPC error knows its code and HTTP status, and whether its message may reach the client
(`expose`, as node-oidc-provider's errors do): a client's mistake is described for it to fix; a
fault of ours is answered "Internal error, reference <request id>", its message only in the log.
JSON-RPC errors and bearer challenges alike may carry a `detail` (node-oidc-provider's
`error_detail`): what went wrong, for the request's log line and never for the client, such as
which claim of a refused token was wrong, or what a backing service answered.
"""

from __future__ import annotations

from typing import Any

MessageId = str | int


class JsonRpcError(Exception):
    """A JSON-RPC 2.0 error object (section 5.1) with the HTTP status that carries it."""

    code: int = -32603
    http_status: int = 500
    expose: bool = True

    def __init__(
        self,
        message: str,
        data: Any = None,
        http_status: int | None = None,
        headers: dict[str, str] | None = None,
        message_id: MessageId | None = None,
        detail: str | None = None,
    ) -> None:
        """`message_id`: the request's id, where the error is raised knowing it (the parser); every
        other error gets it from the code that answers the request. `detail`: logged, never sent."""
        super().__init__(message)
        self.message = message
        self.data = data
        self.message_id = message_id
        self.headers = headers or {}
        self.detail = detail
        if http_status is not None:
            self.http_status = http_status

    def shown(self, reference: str) -> str:
        """The message the client gets; `reference` names the log lines of the request."""
        return self.message if self.expose else f"Internal error, reference {reference}."

    def logged(self) -> str | None:
        """What the request's log line says of the error: its detail, and the message the client was
        not shown."""
        if self.expose:
            return self.detail
        return f"{self.message}: {self.detail}" if self.detail else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code}, message={self.message!r})"


class ParseError(JsonRpcError):
    code, http_status = -32700, 400


class InvalidRequest(JsonRpcError):
    code, http_status = -32600, 400


class MethodNotFound(JsonRpcError):
    code, http_status = -32601, 200


class InvalidParams(JsonRpcError):
    code, http_status = -32602, 200


class ResourceNotFound(InvalidParams):
    """resources/read of a URI that names no resource the caller may read: "Resource not found",
    with the URI in `data`. -32602 in 2026-07-28 (SEP-2164); the handshake eras' code was -32002, so
    the era gives the code (protocol/eras.py)."""

    def __init__(self, uri: str, code: int, reason: str | None = None) -> None:
        super().__init__(f"Resource not found: {reason}" if reason else "Resource not found", data={"uri": uri})
        self.code = code


class HeaderMismatch(JsonRpcError):
    """MCP 2026-07-28: an MCP-Protocol-Version, Mcp-Method or Mcp-Name header disagrees with the body."""

    code, http_status = -32020, 400


class MissingRequiredClientCapability(JsonRpcError):
    """MCP 2026-07-28: the request needs a client capability the client did not declare."""

    code, http_status = -32021, 400


class UnsupportedProtocolVersion(JsonRpcError):
    """MCP 2026-07-28 `UnsupportedProtocolVersionError`: data names the versions we speak."""

    code, http_status = -32022, 400


class InternalError(JsonRpcError):
    """A fault of ours: the client gets a reference, the log what happened."""

    code, http_status = -32603, 500
    expose = False


class Unavailable(JsonRpcError):
    """A backing service is unreachable: 503 with Retry-After, and a message that says to retry."""

    code, http_status = -32603, 503


class NeedsNewerProtocol(JsonRpcError):
    """The call needs what only a newer protocol version than the client's can carry. A server
    error by its status, as before, but its message is written for the client: it says what to do."""

    code, http_status = -32603, 500


class RateLimited(JsonRpcError):
    """A rate limit is reached; `limited_by` names which, when it is one of the tool-call limits
    (guardrails/ratelimit.py). One application code for both protocol eras, outside -32768..-32000,
    which JSON-RPC and MCP 2026-07-28 reserve."""

    code, http_status = -31429, 429

    def __init__(self, message: str, limited_by: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.limited_by = limited_by


class SessionNotFound(JsonRpcError):
    """Legacy era: the Mcp-Session-Id is unknown, ended, or not this caller's (404 tells the
    client to start a new session). Application code, outside the ranges MCP reserves."""

    code, http_status = -31404, 404


class ForbiddenOrigin(JsonRpcError):
    """A browser page from an origin we do not trust (DNS rebinding protection)."""

    code, http_status = -31403, 403


class MisdirectedRequest(JsonRpcError):
    """The Host names a server other than this one (DNS rebinding protection; RFC 9110 section 15.5.20)."""

    code, http_status = -31421, 421


class AuthError(Exception):
    """An OAuth bearer-token failure (RFC 6750 section 3), answered with a WWW-Authenticate challenge."""

    http_status = 401
    error: str | None = "invalid_token"

    def __init__(self, description: str, scope: str | None = None, detail: str | None = None) -> None:
        """`description` goes to the client in the body and the challenge; `detail` only to the log."""
        super().__init__(description)
        self.description = description
        self.scope = scope
        self.detail = detail


class MissingToken(AuthError):
    """No credentials at all: RFC 6750 section 3.1 says the challenge then carries no error code."""

    error = None


class InvalidToken(AuthError):
    pass


class InsufficientScope(AuthError):
    """The token is valid but lacks the scope this call needs: a step-up challenge."""

    http_status = 403
    error = "insufficient_scope"


class KeysUnavailable(Exception):
    """The authorization server's keys could not be fetched, so no token can be checked now."""


class ToolError(Exception):
    """A failure the model can act on; becomes a tool result with `isError: true` and this text."""


class NoSuchResource(Exception):
    """A resource's URI names nothing (no such row); the message says how to find one that exists."""


class Cancelled(Exception):
    """The client cancelled the request (closed its stream, or sent notifications/cancelled)."""


class InputRequired(Exception):
    """A tool needs something from the client first (2026-07-28 multi-round-trip requests): the
    call answers with `resultType: input_required` and these input requests, never a server request."""

    def __init__(self, input_requests: dict[str, Any], request_state: str | None = None) -> None:
        super().__init__("input required")
        self.input_requests = input_requests
        self.request_state = request_state
