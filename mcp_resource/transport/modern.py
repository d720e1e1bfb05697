"""The 2026-07-28 era on /mcp: stateless requests validated against their own envelope and headers."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Response, current_app, request

from mcp_resource.auth import Principal
from mcp_resource.errors import HeaderMismatch, InvalidParams, UnsupportedProtocolVersion
from mcp_resource.guardrails import streams
from mcp_resource.jsonrpc import Message
from mcp_resource.notifications import RESOURCES_UPDATED, TOOLS_LIST_CHANGED, Notice
from mcp_resource.protocol import context, eras, pipeline
from mcp_resource.protocol.context import Context
from mcp_resource.protocol.entries import resources_subscribe
from mcp_resource.protocol.versions import (
    CLIENT_CAPABILITIES_META,
    LOG_LEVEL_META,
    LOG_LEVELS,
    MODERN_VERSIONS,
    PROTOCOL_VERSION_META,
    SUBSCRIPTION_ID_META,
    SUPPORTED_VERSIONS,
)
from mcp_resource.services import services
from mcp_resource.transport import calls, sse

PROTOCOL_VERSION_HEADER = "MCP-Protocol-Version"
METHOD_HEADER = "Mcp-Method"
NAME_HEADER = "Mcp-Name"
# Methods whose target is mirrored in Mcp-Name, and the params key it mirrors.
NAME_BEARING = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}
_BASE64_SENTINEL = re.compile(r"^=\?base64\?(?P<payload>.*)\?=$")
# The most resources one subscriptions/listen may ask updates of (each is admitted on its own).
MAX_RESOURCE_SUBSCRIPTIONS = 100


def is_modern(message: Message) -> bool:
    """A request is modern if it says so in its header or in its `_meta` (versioning: dual-era servers)."""
    meta = message.params.get("_meta")
    declared_in_meta = isinstance(meta, dict) and PROTOCOL_VERSION_META in meta
    return request.headers.get(PROTOCOL_VERSION_HEADER) in MODERN_VERSIONS or declared_in_meta


def accept(principal: Principal, message: Message) -> Callable[[], Response]:
    """The request's envelope and headers checked; how to answer it."""
    if not message.is_request:
        return lambda: Response(status=202)
    version = check_envelope(message)
    eras.MODERN.check_guarded(message.method)
    capabilities = message.params["_meta"][CLIENT_CAPABILITIES_META]
    client_capabilities = capabilities if isinstance(capabilities, dict) else {}
    ctx = context.for_request(
        principal,
        eras.MODERN,
        version,
        client_capabilities=client_capabilities,
        input_responses=message.params.get("inputResponses", {}),
        request_state=message.params.get("requestState"),
    )
    if message.method == "subscriptions/listen":
        return partial(listen, ctx, message)
    # 2026-07-28: closing the response stream is the cancellation.
    return partial(calls.respond, ctx, message, on_disconnect=ctx.cancelled.set)


def check_envelope(message: Message) -> str:
    """The request's protocol version, after the `_meta`, header, version and log level checks, in
    that order (logging: an unknown log level SHOULD be -32602)."""
    meta = message.params.get("_meta")
    missing = [k for k in (PROTOCOL_VERSION_META, CLIENT_CAPABILITIES_META) if not isinstance(meta, dict) or k not in meta]
    if missing:
        raise InvalidParams(f"params._meta is missing the required key(s): {', '.join(missing)}.", http_status=400)
    version = meta[PROTOCOL_VERSION_META]  # type: ignore[index]
    if request.headers.get(PROTOCOL_VERSION_HEADER) != version:
        raise HeaderMismatch("The MCP-Protocol-Version header does not match params._meta's protocol version.")
    if request.headers.get(METHOD_HEADER) != message.method:
        raise HeaderMismatch("The Mcp-Method header does not match the request's method.")
    name_key = NAME_BEARING.get(message.method or "")
    if name_key is not None and decode_header(request.headers.get(NAME_HEADER)) != message.params.get(name_key):
        raise HeaderMismatch(f"The Mcp-Name header does not match the request's {name_key}.")
    if message.method == "tools/call":
        check_param_headers(message.params)
    if not isinstance(version, str):
        raise InvalidParams("The protocol version in params._meta must be a string.", http_status=400)
    if version not in MODERN_VERSIONS:
        raise UnsupportedProtocolVersion(
            f"Unsupported protocol version: {version}.",
            data={"supported": list(SUPPORTED_VERSIONS), "requested": version},
        )
    if meta.get(LOG_LEVEL_META, LOG_LEVELS[0]) not in LOG_LEVELS:  # type: ignore[union-attr]  # checked above
        raise InvalidParams(f"The log level in params._meta must be one of {', '.join(LOG_LEVELS)}.")
    return version


def check_param_headers(params: dict[str, Any]) -> None:
    """Arguments a tool marks with `x-mcp-header` travel in Mcp-Param-<Name> too, and must agree."""
    name = params.get("name")
    tool = services().tools.get(name) if isinstance(name, str) else None
    arguments = params.get("arguments")
    if tool is None or not isinstance(arguments, dict):
        return  # the call itself is refused with a precise error later
    for prop, header, kind in tool.header_params:
        raw = request.headers.get(f"Mcp-Param-{header}")
        value = arguments.get(prop)
        if value is None and raw is None:
            continue
        decoded = decode_header(raw)
        if value is None or decoded is None or not _same_param(kind, value, decoded):
            raise HeaderMismatch(f"The Mcp-Param-{header} header does not match the argument {prop}.")


def _same_param(kind: str, value: Any, header: str) -> bool:
    if kind == "boolean":
        return isinstance(value, bool) and header == ("true" if value else "false")
    if kind == "integer" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return re.fullmatch(r"-?\d+(\.0+)?", header) is not None and int(header.split(".")[0]) == value
    return isinstance(value, str) and header == value


def decode_header(value: str | None) -> str | None:
    """Header values outside visible ASCII travel as `=?base64?<UTF-8 base64>?=`; a bad one matches nothing."""
    if value is None:
        return None
    match = _BASE64_SENTINEL.match(value)
    if match is None:
        return value
    payload = match.group("payload")
    try:
        raw = base64.b64decode(payload, validate=True)
        decoded = raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    # Only canonical base64 (what an encoder emits) is accepted, so no two spellings of one value.
    return decoded if base64.b64encode(raw).decode("ascii") == payload else None


def listen(ctx: Context, message: Message) -> Response:
    """subscriptions/listen: acknowledge, then only the notification types asked for, with keep-alives.
    Each resource in `resourceSubscriptions` is admitted first as a resources/subscribe of its own
    (its scope, the caller's limits, an audit row), so a refusal answers the request instead."""
    wanted = message.params.get("notifications")
    if not isinstance(wanted, dict):
        raise InvalidParams('Invalid params: "notifications" must be an object of the types to receive.')
    uris = subscribed_resources(ctx, wanted.get("resourceSubscriptions"))
    watched = frozenset(uris)
    lease = streams.hold(ctx.principal)
    honored: dict[str, Any] = {"toolsListChanged": True} if wanted.get("toolsListChanged") is True else {}
    if uris:
        honored["resourceSubscriptions"] = list(uris)
        services().resource_updates.listen()  # a change after the acknowledgement is heard
    tag = {SUBSCRIPTION_ID_META: message.id}
    acknowledgement = sse.event(sse.notification("notifications/subscriptions/acknowledged", {"notifications": honored, "_meta": tag}))

    def params_of(notice: Notice) -> dict[str, Any] | None:
        if notice.method == TOOLS_LIST_CHANGED and honored.get("toolsListChanged"):
            return {"_meta": tag}
        if notice.method == RESOURCES_UPDATED and notice.uri in watched:
            return {"uri": notice.uri, "_meta": tag}
        return None

    stream = sse.server_notifications(services().hub, acknowledgement, current_app.config["SETTINGS"].sse_keepalive_seconds, params_of)
    return sse.held_response(lease, stream)


def subscribed_resources(ctx: Context, requested: Any) -> tuple[str, ...]:
    """The URIs of `resourceSubscriptions`, each admitted (pipeline steps 1-4) before any is run."""
    if requested is None:
        return ()
    if not isinstance(requested, list) or not all(isinstance(uri, str) for uri in requested):
        raise InvalidParams('Invalid params: "resourceSubscriptions" must be an array of resource URIs.')
    uris = list(dict.fromkeys(requested))
    if len(uris) > MAX_RESOURCE_SUBSCRIPTIONS:
        raise InvalidParams(f"Invalid params: one subscriptions/listen may ask updates of {MAX_RESOURCE_SUBSCRIPTIONS} resources at most.")
    admitted = [pipeline.admission(ctx, resources_subscribe.ENTRY, {"uri": uri}) for uri in uris]
    for subscription in admitted:
        pipeline.run(ctx, subscription)
    return tuple(uris)
