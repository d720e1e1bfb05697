"""The tool registry: entry points, start-up refusals that name the tool, scope filtering."""

from __future__ import annotations

import pytest
from marshmallow import Schema

from mcp_resource.auth import Principal
from mcp_resource.protocol import eras, methods
from mcp_resource.protocol.context import Context
from mcp_resource.tools.base import Tool
from mcp_resource.tools.registry import ToolRegistry, ToolRegistryError, _check
from shared import scopes


class NoInput(Schema):
    pass


def tool_class(name: str = "probe", scope: str = "posts:read", **attributes) -> type[Tool]:
    return type("Probe", (Tool,), {"name": name, "description": "Probe.", "scope": scope, "Input": NoInput, **attributes})


def test_the_installed_tools_load_from_entry_points():
    registry = ToolRegistry.from_entry_points()

    assert registry.get("list_posts") is not None
    assert registry.get("no_such_tool") is None


def test_tools_are_filtered_by_scope_in_name_order():
    registry = ToolRegistry.from_entry_points()

    assert [t["name"] for t in registry.visible_to(frozenset({"posts:read"}))] == ["get_post", "list_posts"]
    assert [t["name"] for t in registry.visible_to(frozenset({"posts:write"}))] == ["create_post", "publish_post", "update_post"]
    assert registry.visible_to(frozenset()) == ()


def test_duplicate_names_fail_start_up():
    with pytest.raises(ToolRegistryError, match="Two tools are named 'probe'"):
        ToolRegistry([tool_class()(), tool_class()()])


@pytest.mark.parametrize(
    ("entry_name", "cls", "message"),
    [
        ("probe", object, "is not a subclass"),
        ("other", tool_class(), "declares name 'probe'"),
        ("bad name", tool_class(name="bad name"), "names are 1-128 characters"),
        ("probe", tool_class(scope="nothing:here"), "requires scope 'nothing:here'"),
        ("probe", tool_class(Input=dict), "Input must be a marshmallow Schema"),
    ],
    ids=["not-a-tool", "name-mismatch", "bad-name", "unknown-scope", "input-not-schema"],
)
def test_a_broken_tool_fails_start_up_with_its_name(entry_name, cls, message):
    with pytest.raises(ToolRegistryError, match=message) as raised:
        _check(entry_name, cls)

    assert repr(entry_name) in str(raised.value)


def test_a_separately_installed_package_adds_tools_and_their_scope():
    """The conformance fixture package is installed only in the test environment; its tools and
    scope arrive through the entry points, with no change to the registry or the catalogue."""
    registry = ToolRegistry.from_entry_points()

    assert "conformance:run" in scopes.SCOPE_NAMES
    assert "test_simple_text" in [t["name"] for t in registry.visible_to(frozenset({"conformance:run"}))]


def test_tools_list_pages_with_cursors(monkeypatch):
    monkeypatch.setattr(methods, "PAGE_SIZE", 2)
    registry = ToolRegistry.from_entry_points()
    everyone = Principal("c", "s", frozenset({"posts:read", "posts:write"}), "j", 0)
    ctx = Context(principal=everyone, tools=registry, request_id="r", era=eras.MODERN, protocol_version="2026-07-28")

    pages, cursor = [], None
    while True:
        page = methods.list_tools(ctx, {"cursor": cursor} if cursor else {})
        pages.append([t["name"] for t in page["tools"]])
        cursor = page.get("nextCursor")
        if cursor is None:
            break

    assert pages == [["create_post", "get_post"], ["list_posts", "publish_post"], ["update_post"]]
