"""The Resource base class: what a resource declares, and the contents a read answers with."""

from __future__ import annotations

import base64
import json
from typing import Any, ClassVar

from mcp_resource.auth import Principal
from mcp_resource.resources.uri_templates import UriTemplate
from mcp_resource.tools.base import json_default

Contents = dict[str, Any]


class Resource:
    """Subclass, declare the attributes below, and implement `read`. A static resource declares its
    `uri`; a templated one its `uri_template` (RFC 6570 level 1: `{name}` only), and `read` gets
    the values the requested URI was made from. A URI that names nothing (no such row) raises
    `errors.NoSuchResource`, which the client hears as "Resource not found" with the URI."""

    name: ClassVar[str]
    description: ClassVar[str]
    scope: ClassVar[str]
    mime_type: ClassVar[str]
    title: ClassVar[str | None] = None
    uri: ClassVar[str | None] = None
    uri_template: ClassVar[str | None] = None
    #: 2026-07-28 caching: how long a client may keep what it read (ms); 0 for data that changes.
    ttl_ms: ClassVar[int] = 0
    #: Optional: reads per minute per caller, tighter than the deployment's default.
    rate_limit_per_minute: ClassVar[int | None] = None
    requires_client_capabilities: ClassVar[tuple[str, ...]] = ()
    read_only: ClassVar[bool] = True
    streams: ClassVar[bool] = False
    sensitive: ClassVar[frozenset[str]] = frozenset()

    def __init__(self) -> None:
        self.template = UriTemplate(self.uri_template) if self.uri_template is not None else None
        self.key: str = self.uri if self.uri is not None else str(self.uri_template)
        self.audit_name = f"resources/read {self.key}"

    def read(self, principal: Principal, uri: str, values: dict[str, str]) -> list[Contents]:
        raise NotImplementedError

    def complete(self, variable: str, value: str, context: dict[str, str]) -> list[str]:
        """Values of a template's `variable` that start with `value` (completion/complete), best
        first; past the first 100, more than 100 is enough to say there are more."""
        return []

    def values_of(self, uri: str) -> dict[str, str] | None:
        """The template's values `uri` was made from ({} for the static URI), or None if it is not ours."""
        if self.template is None:
            return {} if uri == self.uri else None
        return self.template.match(uri)

    def listing(self) -> dict[str, Any]:
        """Its entry in resources/list, or in resources/templates/list for a template."""
        entry: dict[str, Any] = {"uri": self.uri} if self.template is None else {"uriTemplate": self.uri_template}
        entry.update(name=self.name, description=self.description, mimeType=self.mime_type)
        if self.title is not None:
            entry["title"] = self.title
        return entry


def text(uri: str, body: str, mime_type: str = "text/plain") -> Contents:
    return {"uri": uri, "mimeType": mime_type, "text": body}


def blob(uri: str, data: bytes, mime_type: str) -> Contents:
    """Binary contents, base64-encoded as MCP carries them."""
    return {"uri": uri, "mimeType": mime_type, "blob": base64.b64encode(data).decode("ascii")}


def json_text(uri: str, value: Any) -> Contents:
    return text(uri, json.dumps(value, default=json_default), "application/json")
