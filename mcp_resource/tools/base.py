"""The Tool base class: what a tool declares, and how a call becomes an MCP tool result."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from marshmallow import Schema, ValidationError

from mcp_resource.asking import Asker, Unreachable
from mcp_resource.auth import Principal
from mcp_resource.errors import Cancelled, InputRequired, JsonRpcError, ToolError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Annotations:
    """MCP tool annotations: hints to the client, never a security boundary. `idempotent` is also
    the tool's word that its job may run once more when the worker running it died."""

    read_only: bool = False
    destructive: bool = False
    idempotent: bool = False
    open_world: bool = False

    def to_mcp(self) -> dict[str, bool]:
        return {
            "readOnlyHint": self.read_only,
            "destructiveHint": self.destructive,
            "idempotentHint": self.idempotent,
            "openWorldHint": self.open_world,
        }


ProgressReporter = Callable[[float, "float | None", "str | None"], None]


@dataclass(frozen=True)
class ToolCall:
    """The context of one call: who makes it, the request it belongs to, and its progress line."""

    principal: Principal
    request_id: str
    progress: ProgressReporter | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)
    close_stream: Callable[[], None] = field(default=lambda: None)
    """Ends the response stream early (2025-11-25 SSE polling); the client resumes with Last-Event-ID."""
    log_sink: Callable[[str, Any], None] | None = None
    """Set when the request opted in to log messages (2026-07-28 `_meta` logLevel)."""
    asker: Asker = field(default_factory=lambda: Unreachable({}))
    """The way to the client for `elicit`, `sample` and `ask` (mcp_resource/asking/)."""

    def elicit(self, message: str, requested_schema: dict[str, Any], key: str | None = None) -> dict[str, Any]:
        """Ask the person, through the client, for the values `requested_schema` describes (a flat
        object schema). Returns the client's ElicitResult: `action` is "accept" (with `content`),
        "decline" or "cancel". Works in every era; see `ask`."""
        params = {"message": message, "requestedSchema": requested_schema}
        return self._ask_one("elicitation/create", params, key)

    def sample(self, messages: list[dict[str, Any]], max_tokens: int, key: str | None = None, **params: Any) -> dict[str, Any]:
        """Ask the client's language model (sampling/createMessage) to answer `messages`; `params` may add
        `systemPrompt`, `modelPreferences`, `temperature`... Returns its CreateMessageResult."""
        return self._ask_one("sampling/createMessage", {"messages": messages, "maxTokens": max_tokens, **params}, key)

    def can_ask(self, method: str) -> bool:
        """Whether the client declared what `method` (e.g. "elicitation/create") needs."""
        return self.asker.declared(method)

    def ask(self, requests: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Several requests to the client at once (`{key: {"method": ..., "params": ...}}`): the
        results by key. In 2025-06-18 and 2025-11-25 they go out on the call's stream and the call
        waits for the answers (a tool that asks sets `streams = True`); a client that does not answer
        in time ends the call with an `isError` result. In 2026-07-28 the call answers
        `input_required` and runs again from its start when the client retries with the answers:
        ask the same questions in the same order every run, and change nothing before the last."""
        return self.asker.ask(requests)

    def _ask_one(self, method: str, params: dict[str, Any], key: str | None) -> dict[str, Any]:
        key = key or self.asker.next_key(method)
        return self.ask({key: {"method": method, "params": params}})[key]

    def log(self, level: str, data: Any) -> None:
        """Send the client a log message, only if its request asked for them at this level or lower."""
        if self.log_sink is not None:
            self.log_sink(level, data)

    def report_progress(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        """Tell the client how far the work is (if it asked), and stop here if it was cancelled."""
        self.check_cancelled()
        if self.progress is not None:
            self.progress(progress, total, message)

    def check_cancelled(self) -> None:
        if self.cancelled.is_set():
            raise Cancelled(self.request_id)


@dataclass(frozen=True)
class ToolResult:
    """An MCP CallToolResult: text first, then any other content blocks (image, audio, resource),
    and `isError` for failures the model should read."""

    text: str = ""
    is_error: bool = False
    structured: Any = field(default=None)
    blocks: tuple[dict[str, Any], ...] = ()
    value: Any = None
    """The data behind a JSON result, kept so a tool with an Output schema can publish it as structuredContent."""

    @classmethod
    def json(cls, value: Any) -> ToolResult:
        return cls(text=json.dumps(value, default=json_default), value=value)

    def to_mcp(self) -> dict[str, Any]:
        content = ([{"type": "text", "text": self.text}] if self.text or not self.blocks else []) + list(self.blocks)
        result: dict[str, Any] = {"content": content, "isError": self.is_error}
        if self.structured is not None:
            result["structuredContent"] = self.structured
        return result


class Tool:
    """Subclass, declare the attributes below, and implement `run`."""

    name: ClassVar[str]
    description: ClassVar[str]
    scope: ClassVar[str]
    Input: ClassVar[type[Schema]]
    #: Optional: the shape of the result, published as outputSchema; results then carry structuredContent.
    Output: ClassVar[type[Schema] | None] = None
    annotations: ClassVar[Annotations] = Annotations()
    #: Optional: calls per minute per caller, tighter than the deployment's default for the tool
    #: (shared/policy.py Defaults.for_tool); a client's own limit for the tool still overrides it.
    rate_limit_per_minute: ClassVar[int | None] = None
    #: Answer on an SSE stream even without a progress token (a long call that may close it early).
    streams: ClassVar[bool] = False
    #: Client capabilities the tool cannot work without (e.g. "sampling"); undeclared -> -32021.
    requires_client_capabilities: ClassVar[tuple[str, ...]] = ()
    #: (property, header, type) of the arguments mirrored in Mcp-Param-* headers; set by the registry.
    header_params: tuple[tuple[str, str, str], ...] = ()

    def __init__(self) -> None:
        self._input = self.Input()
        self._output = self.Output() if self.Output is not None else None
        #: Argument names the audit trail redacts (fields declared with `metadata={"sensitive": True}`).
        self.sensitive = frozenset(name for name, spec in self._input.fields.items() if spec.metadata.get("sensitive"))
        #: What the guardrail steps read (mcp_resource/guarded.py), set once here rather than computed per call.
        self.audit_name: str = self.name
        self.read_only: bool = self.annotations.read_only

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        raise NotImplementedError

    def work(self, job: Any, args: dict[str, Any]) -> dict[str, Any]:
        """For tools whose work is a job: done by a worker, reporting through `job.report(...)`."""
        raise NotImplementedError

    @classmethod
    def runs_as_job(cls) -> bool:
        return cls.work is not Tool.work

    def load(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Validated arguments; raises marshmallow's ValidationError."""
        return self._input.load(arguments)

    def call(self, call: ToolCall, arguments: dict[str, Any]) -> ToolResult:
        """Validate, run, and turn every failure into a result the model can read."""
        try:
            args = self._input.load(arguments)
        except ValidationError as error:
            return ToolResult(text=describe_invalid(self.name, error), is_error=True)
        try:
            return self._structured(self.run(call, args))
        except (Cancelled, InputRequired, JsonRpcError):  # not the tool's failure: the protocol's answer
            raise
        except ToolError as error:
            return ToolResult(text=str(error), is_error=True)
        except Exception:
            # The model sees a reference, never the exception's text; the log has the traceback.
            logger.exception("tool_failed", extra={"tool": self.name})
            return ToolResult(text=f"Internal error in {self.name}, reference {call.request_id}.", is_error=True)


    def _structured(self, result: ToolResult) -> ToolResult:
        """With an Output schema, the result's data is dumped through it: structuredContent and the
        text that mirrors it (tools section: structured results SHOULD also come as text)."""
        if self._output is None or result.is_error or result.value is None:
            return result
        structured = self._output.dump(result.value)
        return ToolResult(text=json.dumps(structured), structured=structured, value=result.value)


def json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def describe_invalid(tool: str, error: ValidationError) -> str:
    messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
    problems = " ".join(f"{path}: {text}" for path, text in flatten_messages(messages))
    return f"Invalid arguments for {tool}: {problems} Send arguments that match the tool's inputSchema."


def flatten_messages(messages: Any, path: str = "") -> list[tuple[str, str]]:
    """Nested marshmallow messages as (dotted path, message): `lines.0.quantity`."""
    if isinstance(messages, dict):
        return [pair for key, value in sorted(messages.items(), key=lambda kv: str(kv[0])) for pair in flatten_messages(value, f"{path}.{key}" if path else str(key))]
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [(path, " ".join(messages))]
    if isinstance(messages, list):
        return [pair for m in messages for pair in flatten_messages(m, path)]
    return [(path, str(messages))]
