"""Drawbridge MCP resource server: MCP over Streamable HTTP, tools, resources and prompts gated by token scopes."""

from __future__ import annotations

from flask import Flask

from mcp_resource import http_errors, job_runners, notifications, resource_metadata
from mcp_resource.asking import request_state
from mcp_resource.auth import TokenVerifier
from mcp_resource.batching import PipelinedRedis
from mcp_resource.guardrails import audit, ratelimit, streams
from mcp_resource.jwks import JwksCache
from mcp_resource.prompts import registry as prompt_registry
from mcp_resource.resources.registry import ResourceRegistry
from mcp_resource.services import McpServices, services
from mcp_resource.tools.registry import ToolRegistry
from mcp_resource.transport import http
from mcp_resource.transport.legacy import cancellation, events, sessions, sse_pair, subscriptions
from mcp_resource.wakeups import Listener
from shared import hosts, revocation
from shared import redis as drawbridge_redis
from shared.app import configure_app
from shared.policy import ClientPolicies, Defaults
from shared.services import install
from shared.settings import Settings

MAX_REQUEST_BYTES = 1024 * 1024
# The audit writer's connection, outside the pool so it never waits behind requests (guardrails/audit.py).
AUDIT_CONNECTIONS = 1


def create_app(settings: Settings | None = None, bound_answers: bool = True) -> Flask:
    """Build the resource server. Never monkey-patches: gunicorn's gevent worker does that.
    `bound_answers=False` for the job worker: a report's statement may take longer than a request's."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    configure_app(app, settings, service="mcp_resource", connections_outside_pool=AUDIT_CONNECTIONS, bound_answers=bound_answers)
    hosts.init_app(app, [settings.resource_url])
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    redis_client = drawbridge_redis.connect(settings.redis_url)
    # One pipeline for the Redis commands of concurrent requests: tool calls' admission, and opening streams.
    pipeline = PipelinedRedis(redis_client) if redis_client is not None else None
    tools = ToolRegistry.from_entry_points()
    verifier = TokenVerifier(
        issuer=settings.issuer,
        audience=settings.resource_url,
        jwks=JwksCache(
            settings.jwks_url,
            settings.jwks_cache_seconds,
            settings.jwks_refetch_interval_seconds,
            redis_client=redis_client,
        ),
        revocations=revocation.for_client(redis_client, pipeline.execute if pipeline is not None else None),
    )
    hub = notifications.Hub()
    # The worker's one pub/sub connection: the event log's wake-ups and resource updates.
    listener = Listener(redis_client) if redis_client is not None else None
    watcher = notifications.ToolStateWatcher(app, tools, hub)
    watcher.refresh()  # switched-off tools are hidden from the first request on
    session_store = sessions.for_client(redis_client, pipeline, settings.max_sessions_per_client)
    policies = ClientPolicies(Defaults.of(settings))
    install(
        app,
        McpServices(
            redis=redis_client,
            tools=tools,
            resources=ResourceRegistry.from_entry_points(),
            prompts=prompt_registry.from_entry_points(),
            verifier=verifier,
            hub=hub,
            tool_watcher=watcher,
            resource_updates=notifications.resource_updates(hub, redis_client, listener),
            jobs=job_runners.for_app(app, redis_client),
            ratelimit=ratelimit.for_client(redis_client, policies, settings.rate_limit_on_redis_failure, pipeline),
            audit=audit.AuditWriter(app),
            streams=streams.OpenStreams(streams.for_client(redis_client, pipeline), session_store, settings.sse_keepalive_seconds),
            sessions=session_store,
            events=events.for_client(redis_client, pipeline, listener),
            cancellations=cancellation.for_client(redis_client),
            request_states=request_state.for_client(settings.secret_key, redis_client),
            subscriptions=subscriptions.for_client(redis_client, pipeline),
        ),
    )
    # Started after gunicorn's fork (serving/hooks.py); under any other server, by the first request.
    app.before_request(services(app).start)
    app.register_blueprint(http.bp)
    app.register_blueprint(sse_pair.bp)
    app.register_blueprint(resource_metadata.bp)
    http_errors.init_app(app)
    return app
