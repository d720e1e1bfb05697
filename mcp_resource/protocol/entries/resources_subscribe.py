"""resources/subscribe (the handshake eras), and each URI a 2026-07-28 `subscriptions/listen`
asks updates of: the resource a URI names, found as resources/read finds it, so subscribing needs
the scope reading does (resources: "Resource permissions SHOULD be checked before operations"),
and is rate-limited and audited as `resources/subscribe <uri or template>`.

A handshake-era subscription is kept for the session (transport/legacy/subscriptions.py); a
2026-07-28 one lives in its listen stream, which holds the URIs it was admitted for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from mcp_resource.errors import InvalidParams
from mcp_resource.protocol.context import Context
from mcp_resource.protocol.entries import Admitted, Call, Entry, completed, resources_read
from mcp_resource.resources.base import Resource
from mcp_resource.services import services


@dataclass(frozen=True)
class Subscribing:
    """A resource whose updates are asked for, as the guardrail steps see it."""

    resource: Resource

    @property
    def audit_name(self) -> str:
        return f"resources/subscribe {self.resource.key}"

    @property
    def scope(self) -> str:
        return self.resource.scope

    @property
    def rate_limit_per_minute(self) -> int | None:
        return self.resource.rate_limit_per_minute

    requires_client_capabilities: ClassVar[tuple[str, ...]] = ()
    read_only: ClassVar[bool] = True
    streams: ClassVar[bool] = False
    sensitive: ClassVar[frozenset[str]] = frozenset()


def find_subscribed(ctx: Context, call: Call) -> None:
    resources_read.find_resource(ctx, call)
    call.target = Subscribing(call.target)  # type: ignore[arg-type]  # find_resource set a Resource


def subscribe(ctx: Context, admitted: Admitted) -> dict[str, Any]:
    if ctx.session_id is not None and not services().subscriptions.add(ctx.session_id, admitted.call.name):
        raise InvalidParams("This session is subscribed to as many resources as it may be; unsubscribe from one first.")
    return {}


ENTRY = Entry("resources/subscribe", "resource", resources_read.call_of, find_subscribed, subscribe, completed, unknown_prefix="resources/subscribe ")
