"""The Prompt base class: what a prompt declares, its arguments checked, and the messages it makes."""

from __future__ import annotations

import base64
from typing import Any, ClassVar

from marshmallow import Schema, ValidationError

from mcp_resource.asking import Asker
from mcp_resource.auth import Principal
from mcp_resource.errors import InvalidParams
from mcp_resource.resources.base import Contents
from mcp_resource.tools.base import flatten_messages

Message = dict[str, Any]


class NoArguments(Schema):
    pass


class Prompt:
    """Subclass, declare the attributes below, and implement `render`. Prompt arguments are text
    (MCP PromptArgument), so `Arguments` holds `tools.fields.String` fields only: `required=True`
    makes one required, `metadata={"description": ...}` describes it, `metadata={"sensitive": True}`
    keeps its value out of the audit trail."""

    name: ClassVar[str]
    description: ClassVar[str]
    scope: ClassVar[str]
    title: ClassVar[str | None] = None
    Arguments: ClassVar[type[Schema]] = NoArguments
    #: Optional: gets per minute per caller, tighter than the deployment's default.
    rate_limit_per_minute: ClassVar[int | None] = None
    requires_client_capabilities: ClassVar[tuple[str, ...]] = ()
    read_only: ClassVar[bool] = True
    streams: ClassVar[bool] = False

    def __init__(self) -> None:
        self._arguments = self.Arguments()
        self.key: str = self.name
        self.audit_name = f"prompts/get {self.name}"
        self.sensitive = frozenset(name for name, spec in self._arguments.fields.items() if spec.metadata.get("sensitive"))

    def render(self, principal: Principal, args: dict[str, Any]) -> list[Message]:
        raise NotImplementedError

    def render_asking(self, principal: Principal, args: dict[str, Any], asker: Asker) -> list[Message]:
        """Implement this instead of `render` for a prompt that asks the client first
        (`asker.ask({key: {"method": ..., "params": ...}})`, 2026-07-28 only: see docs/integrate.md)."""
        return self.render(principal, args)

    def complete(self, argument: str, value: str, context: dict[str, str]) -> list[str]:
        """Values of `argument` that start with `value` (completion/complete), best first."""
        return []

    def argument_names(self) -> tuple[str, ...]:
        return tuple(self._arguments.fields)

    def get(self, principal: Principal, arguments: dict[str, Any], asker: Asker | None = None) -> dict[str, Any]:
        """The GetPromptResult; arguments that are missing, unknown or not text are -32602."""
        try:
            args = self._arguments.load(arguments)
        except ValidationError as error:
            messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
            problems = " ".join(f"{path}: {text}" for path, text in flatten_messages(messages))
            raise InvalidParams(f"Invalid arguments for the prompt {self.name}: {problems} Send the arguments prompts/list names.") from None
        rendered = self.render(principal, args) if asker is None else self.render_asking(principal, args, asker)
        return {"description": self.description, "messages": rendered}

    def listing(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"name": self.name, "description": self.description}
        if self.title is not None:
            entry["title"] = self.title
        entry["arguments"] = [_argument(name, spec) for name, spec in self._arguments.fields.items()]
        return entry


def _argument(name: str, spec: Any) -> dict[str, Any]:
    argument: dict[str, Any] = {"name": name, "required": bool(spec.required)}
    if "description" in spec.metadata:
        argument["description"] = spec.metadata["description"]
    return argument


def text(body: str, role: str = "user") -> Message:
    return {"role": role, "content": {"type": "text", "text": body}}


def image(data: bytes, mime_type: str, role: str = "user") -> Message:
    return {"role": role, "content": {"type": "image", "data": base64.b64encode(data).decode("ascii"), "mimeType": mime_type}}


def embedded(contents: Contents, role: str = "user") -> Message:
    """A resource's contents inside the message (resources/base.py builds them)."""
    return {"role": role, "content": {"type": "resource", "resource": contents}}
