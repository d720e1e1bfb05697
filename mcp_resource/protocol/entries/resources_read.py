"""resources/read: the resource a URI names (a static URI, else the first template that makes it),
and its contents. A URI that names nothing is "Resource not found" with the URI in `data`."""

from __future__ import annotations

from typing import Any, cast

from mcp_resource.errors import InvalidParams, NoSuchResource, ResourceNotFound
from mcp_resource.protocol.context import Context
from mcp_resource.protocol.entries import Admitted, Call, Entry, completed
from mcp_resource.resources.base import Resource
from mcp_resource.services import services


def call_of(params: dict[str, Any]) -> tuple[Any, Any]:
    """The URI, which is also what the audit row keeps as arguments (its name is the template's)."""
    return params.get("uri"), {"uri": params.get("uri")}


def find_resource(ctx: Context, call: Call) -> None:
    if not isinstance(call.name, str) or not call.name:
        raise InvalidParams('Invalid params: "uri" must be a URI from resources/list, or one a template from resources/templates/list makes.')
    found = services().resources.find(call.name)
    if found is None:
        raise ResourceNotFound(call.name, ctx.era.resource_not_found_code)
    call.target, call.found = found


def read(ctx: Context, admitted: Admitted) -> dict[str, Any]:
    resource, uri = cast(Resource, admitted.target), admitted.call.name
    try:
        contents = resource.read(ctx.principal, uri, admitted.call.found)
    except NoSuchResource as missing:
        raise ResourceNotFound(uri, ctx.era.resource_not_found_code, str(missing)) from None
    result: dict[str, Any] = {"contents": contents}
    if ctx.era.caching_hints:  # what a token may read is its own: private
        result.update(ttlMs=resource.ttl_ms, cacheScope="private")
    return result


ENTRY = Entry("resources/read", "resource", call_of, find_resource, read, completed, unknown_prefix="resources/read ")
