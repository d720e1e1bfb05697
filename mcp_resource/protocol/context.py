"""The one request context every transport builds: who calls, in which era, and the call's plumbing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import g, request

from mcp_resource.asking import Asker, Unreachable
from mcp_resource.auth import Principal
from mcp_resource.services import services
from mcp_resource.tools.base import ProgressReporter
from mcp_resource.tools.registry import ToolRegistry

if TYPE_CHECKING:
    from mcp_resource.protocol.eras import Era


@dataclass
class Context:
    """What a method handler and the guardrail steps may use."""

    principal: Principal
    tools: ToolRegistry
    request_id: str
    era: Era
    protocol_version: str
    ip: str | None = None
    session_id: str | None = None
    client_capabilities: dict[str, Any] = field(default_factory=dict)
    progress: ProgressReporter | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)
    close_stream: Callable[[], None] = lambda: None
    log_sink: Callable[[str, Any], None] | None = None
    #: The handshake eras' logging/setLevel, as the session keeps it (2026-07-28 asks per request).
    log_level: str | None = None
    #: The way to ask the client mid-call: the call's stream (handshake eras, set when it streams).
    asker: Asker = field(default_factory=lambda: Unreachable({}))
    #: 2026-07-28 multi-round-trip retries: the request's `inputResponses` and `requestState`.
    input_responses: Any = field(default_factory=dict)
    request_state: Any = None
    started: float = field(default_factory=time.perf_counter)


def for_request(principal: Principal, era: Era, protocol_version: str, **plumbing: Any) -> Context:
    """The context of the request being served, with the app's tools and the request's id and address."""
    return Context(
        principal=principal,
        tools=services().tools,
        request_id=g.request_id,
        era=era,
        protocol_version=protocol_version,
        ip=request.remote_addr,
        **plumbing,
    )
