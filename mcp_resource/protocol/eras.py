"""One object per protocol era: the methods it serves and the rules that differ between eras.

Modern (2026-07-28): stateless; every request carries its version and capabilities in `_meta`;
`server/discover` describes the server; results carry `resultType` and serverInfo.
Legacy (2025-11-25, 2025-06-18, 2025-03-26, 2024-11-05): `initialize` starts a session; `ping` and
`logging/setLevel` exist.
`tools/call`, `resources/read`, `prompts/get`, `completion/complete` and `resources/subscribe` are
in neither table: they go through the guardrail pipeline (pipeline.py), in every era that has them
(`lacks`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mcp_resource.errors import MethodNotFound
from mcp_resource.protocol import methods
from mcp_resource.protocol.context import Context
from mcp_resource.protocol.versions import SERVER_INFO_META

Handler = Callable[[Context, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Era:
    name: str
    methods: Mapping[str, Handler]
    # 2026-07-28: an unknown method is HTTP 404, which tells it apart from a legacy 404 (no session).
    unknown_method_http_status: int
    # 2026-07-28 caching: ttlMs and cacheScope on the lists and on resources/read.
    caching_hints: bool
    # resources/read of a URI that names nothing: -32602 in 2026-07-28 (SEP-2164), -32002 before.
    resource_not_found_code: int
    # 2026-07-28: a tool that needs client capabilities the request did not declare is refused (-32021).
    checks_required_capabilities: bool
    # 2026-07-28 extensions: tasks (a job's tool answers with a task) and multi-round-trip results.
    offers_tasks: bool
    answers_input_required: bool
    # 2026-07-28: a request's `_meta` may ask for log messages on its stream; the handshake eras
    # take the level the session set with logging/setLevel (Context.log_level).
    logs_on_request: bool
    stamps_results: bool
    # The handshake eras ask the client (elicitation, sampling) on the call's stream and wait for
    # its answer; 2026-07-28 forbids server requests on a stream (answers_input_required instead).
    asks_on_stream: bool
    # Guarded methods (pipeline.ENTRIES) the era does not have: 2026-07-28 subscribes to resources
    # through subscriptions/listen, not resources/subscribe (subscriptions pattern).
    lacks: frozenset[str] = frozenset()

    def check_guarded(self, method: str | None) -> None:
        """-32601 for a guarded method this era lacks."""
        if method in self.lacks:
            raise MethodNotFound(f"Method not found: {method}.", http_status=self.unknown_method_http_status)

    def dispatch(self, ctx: Context, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """The result of any method but tools/call, or -32601."""
        handler = self.methods.get(method)
        if handler is None:
            raise MethodNotFound(f"Method not found: {method}.", http_status=self.unknown_method_http_status)
        return self.finish(handler(ctx, params))

    def finish(self, result: dict[str, Any]) -> dict[str, Any]:
        """A result as the era sends it: 2026-07-28 stamps `resultType` and the server's identity."""
        if not self.stamps_results:
            return result
        return {"resultType": "complete", **result, "_meta": {**result.get("_meta", {}), SERVER_INFO_META: methods.SERVER_INFO}}


MODERN = Era(
    name="modern",
    methods={
        "server/discover": methods.discover,
        "tools/list": methods.list_tools,
        "resources/list": methods.list_resources,
        "resources/templates/list": methods.list_resource_templates,
        "prompts/list": methods.list_prompts,
        "tasks/get": methods.get_task,
        "tasks/cancel": methods.cancel_task,
        "tasks/update": methods.update_task,
    },
    unknown_method_http_status=404,
    caching_hints=True,
    resource_not_found_code=-32602,
    checks_required_capabilities=True,
    offers_tasks=True,
    answers_input_required=True,
    logs_on_request=True,
    stamps_results=True,
    asks_on_stream=False,
    lacks=frozenset({"resources/subscribe"}),
)
LEGACY = Era(
    name="legacy",
    methods={
        "initialize": methods.initialize,
        "ping": methods.ping,
        "logging/setLevel": methods.set_log_level,
        "resources/unsubscribe": methods.unsubscribe,
        "tools/list": methods.list_tools,
        "resources/list": methods.list_resources,
        "resources/templates/list": methods.list_resource_templates,
        "prompts/list": methods.list_prompts,
    },
    unknown_method_http_status=200,
    caching_hints=False,
    resource_not_found_code=-32002,
    checks_required_capabilities=False,
    offers_tasks=False,
    answers_input_required=False,
    logs_on_request=False,
    stamps_results=False,
    asks_on_stream=True,
)
