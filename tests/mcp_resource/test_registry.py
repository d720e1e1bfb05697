"""The tool registry: entry points, start-up refusals that name the tool, scope filtering."""

from __future__ import annotations

import pytest
from marshmallow import Schema

from mcp_resource.tools.base import Tool
from mcp_resource.tools.registry import ToolRegistry, ToolRegistryError, _check


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
