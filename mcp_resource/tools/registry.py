"""Loads the tools from entry points, refuses a broken or duplicate one, and filters by scope."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any

from marshmallow import Schema

from mcp_resource.tools.base import Tool
from mcp_resource.tools.jsonschema import json_schema
from shared import scopes

# MCP tool names: 1-128 characters of A-Z a-z 0-9 _ - .
TOOL_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


class ToolRegistryError(Exception):
    """A tool cannot be loaded; the message names it and what is wrong."""


class ToolRegistry:
    """Every tool by name, with its `tools/list` entry built once at start-up."""

    def __init__(self, tools: Iterable[Tool]) -> None:
        self._tools: dict[str, Tool] = {}
        for tool in tools:
            if tool.name in self._tools:
                raise ToolRegistryError(f"Two tools are named {tool.name!r}; tool names must be unique.")
            self._tools[tool.name] = tool
        self._listings = {name: _listing(tool) for name, tool in sorted(self._tools.items())}
        for name, tool in self._tools.items():
            tool.header_params = _header_params(self._listings[name]["inputSchema"])
        #: Tools an operator switched off (kept current by notifications.ToolStateWatcher).
        self.disabled: frozenset[str] = frozenset()
        self._visible = lru_cache(maxsize=256)(self._compute_visible)

    @classmethod
    def from_entry_points(cls) -> ToolRegistry:
        tools = []
        for entry_point in entry_points(group=scopes.TOOLS_ENTRY_POINT_GROUP):
            try:
                tool_class = entry_point.load()
            except Exception as error:
                raise ToolRegistryError(f"Tool {entry_point.name!r} ({entry_point.value}) fails to import: {error!r}") from error
            _check(entry_point.name, tool_class)
            tools.append(tool_class())
        return cls(tools)

    def get(self, name: str) -> Tool | None:
        return None if name in self.disabled else self._tools.get(name)

    def names(self) -> list[str]:
        return sorted(self._tools)

    def tool(self, name: str) -> Tool:
        """The tool by name, switched on or off (for operators' commands, never for callers)."""
        return self._tools[name]

    def visible_to(self, granted: frozenset[str]) -> tuple[dict[str, Any], ...]:
        """The `tools/list` entries a token with these scopes may call, in name order."""
        return self._visible(granted, self.disabled)

    def _compute_visible(self, granted: frozenset[str], disabled: frozenset[str]) -> tuple[dict[str, Any], ...]:
        return tuple(
            listing
            for name, listing in self._listings.items()
            if self._tools[name].scope in granted and name not in disabled
        )


def _check(entry_name: str, tool_class: Any) -> None:
    where = f"Tool {entry_name!r}"
    if not (isinstance(tool_class, type) and issubclass(tool_class, Tool)):
        raise ToolRegistryError(f"{where} is not a subclass of mcp_resource.tools.base.Tool.")
    for attribute in ("name", "description", "scope", "Input"):
        if not hasattr(tool_class, attribute):
            raise ToolRegistryError(f"{where} does not declare {attribute!r}.")
    if tool_class.name != entry_name:
        raise ToolRegistryError(f"{where} declares name {tool_class.name!r}; the entry point must use the same name.")
    if not TOOL_NAME.match(tool_class.name):
        raise ToolRegistryError(f"{where}: names are 1-128 characters of letters, digits, '_', '-' and '.'.")
    if tool_class.scope not in scopes.SCOPE_NAMES:
        raise ToolRegistryError(f"{where} requires scope {tool_class.scope!r}, which is not in shared/scopes.py.")
    if not (isinstance(tool_class.Input, type) and issubclass(tool_class.Input, Schema)):
        raise ToolRegistryError(f"{where}: Input must be a marshmallow Schema class.")
    if tool_class.Output is not None and not (isinstance(tool_class.Output, type) and issubclass(tool_class.Output, Schema)):
        raise ToolRegistryError(f"{where}: Output must be a marshmallow Schema class.")


def _header_params(schema: dict[str, Any]) -> tuple[tuple[str, str, str], ...]:
    """(property, header name, JSON type) for each top-level property marked `x-mcp-header`."""
    return tuple(
        (prop, spec["x-mcp-header"], spec.get("type", "string"))
        for prop, spec in schema.get("properties", {}).items()
        if isinstance(spec, dict) and "x-mcp-header" in spec
    )


def _listing(tool: Tool) -> dict[str, Any]:
    listing = {
        "name": tool.name,
        "description": tool.description,
        "inputSchema": json_schema(tool.Input),
        "annotations": tool.annotations.to_mcp(),
    }
    if tool.Output is not None:
        listing["outputSchema"] = json_schema(tool.Output)
    return listing
