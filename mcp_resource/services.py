"""McpServices: everything the MCP server keeps for the life of its app, typed, built once by
create_app. `start()` runs in each gunicorn worker after the fork (serving/hooks.py), or on the first
request of a process that no such hook started (another WSGI server, an app in a test): the
tool-state watcher and the job reaper. Loops a request needs start on first use in the process
serving it (a stream's lease renewals, the event log's wake-ups), and `stop()` ends those too and
closes the audit writer's connection; the batchers (Redis pipeline, audit writer) drain on their
own and die with the process (a batch after `stop()` opens a connection again)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Flask

from shared import services as shared_services

if TYPE_CHECKING:  # these modules read their services through `services()`: no import at run time
    from mcp_resource.asking.request_state import RequestStates
    from mcp_resource.auth import TokenVerifier
    from mcp_resource.catalogue import Catalogue
    from mcp_resource.guardrails.audit import AuditWriter
    from mcp_resource.guardrails.ratelimit import RateLimiter
    from mcp_resource.guardrails.streams import OpenStreams
    from mcp_resource.job_runners import JobRunner
    from mcp_resource.notifications import Hub, ResourceUpdates, ToolStateWatcher
    from mcp_resource.prompts.base import Prompt
    from mcp_resource.resources.registry import ResourceRegistry
    from mcp_resource.tools.registry import ToolRegistry
    from mcp_resource.transport.legacy.cancellation import CancelBoard
    from mcp_resource.transport.legacy.events import EventLog
    from mcp_resource.transport.legacy.sessions import SessionStore
    from mcp_resource.transport.legacy.subscriptions import Subscriptions


@dataclass(eq=False)
class McpServices(shared_services.Services):
    tools: ToolRegistry
    resources: ResourceRegistry
    prompts: Catalogue[Prompt]
    verifier: TokenVerifier
    hub: Hub
    tool_watcher: ToolStateWatcher
    resource_updates: ResourceUpdates
    jobs: JobRunner
    ratelimit: RateLimiter
    audit: AuditWriter
    streams: OpenStreams
    # The legacy eras' state (transport/legacy/).
    sessions: SessionStore
    events: EventLog
    cancellations: CancelBoard
    # 2026-07-28 multi-round-trip requests: requestState sealed, checked and spent once.
    request_states: RequestStates
    subscriptions: Subscriptions

    def start(self) -> None:
        self.tool_watcher.start()
        self.jobs.start()

    def stop(self) -> None:
        self.tool_watcher.stop()
        self.jobs.stop()
        self.streams.stop()
        self.events.stop()  # and with it the worker's pub/sub listener, resource updates' too
        self.audit.close()


def services(app: Flask | None = None) -> McpServices:
    """The MCP server's services: of `app`, or of the app handling this request or job."""
    found = shared_services.of(app)
    if not isinstance(found, McpServices):
        raise RuntimeError("not an MCP resource server app (mcp_resource.create_app)")
    return found
