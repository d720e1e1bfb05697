"""Resources and prompts from entry points: the installed ones load, and a broken one stops
start-up with a refusal that names it."""

from __future__ import annotations

from typing import Any

import pytest
from marshmallow import Schema, fields

from mcp_resource import catalogue
from mcp_resource.catalogue import Catalogue, CatalogueError
from mcp_resource.prompts import registry as prompt_registry
from mcp_resource.prompts.base import Prompt
from mcp_resource.resources.base import Resource
from mcp_resource.resources.registry import ResourceRegistry
from mcp_resource.tools import fields as json_fields


class EntryPoint:
    """An installed entry point, as importlib.metadata gives it."""

    def __init__(self, name: str, item_class: type) -> None:
        self.name, self.value, self.item_class = name, f"tests:{item_class.__name__}", item_class

    def load(self) -> type:
        return self.item_class


def resource_class(**attributes: Any) -> type[Resource]:
    declared = {"name": "probe", "description": "Probe.", "scope": "posts:read", "mime_type": "text/plain", "uri": "test://probe"}
    return type("Probe", (Resource,), {**declared, **attributes})


def test_the_installed_resources_load_and_a_uri_finds_its_resource():
    registry = ResourceRegistry.from_entry_points()

    found = registry.find("drawbridge://posts/12")
    assert found is not None and found[0].uri_template == "drawbridge://posts/{id}" and found[1] == {"id": "12"}
    assert registry.find("drawbridge://posts")[0].uri == "drawbridge://posts"  # type: ignore[index]
    assert registry.find("drawbridge://nothing") is None
    assert [r["uri"] for r in registry.listed(frozenset({"products:read"}))] == ["drawbridge://products"]
    assert registry.listed(frozenset()) == ()


def test_the_installed_prompts_load_filtered_by_scope():
    prompts = prompt_registry.from_entry_points()

    assert [p["name"] for p in prompts.listings_visible_to(frozenset({"posts:write"}))] == ["draft_post"]


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"uri": None}, "exactly one of 'uri' and 'uri_template'"),
        ({"uri_template": "test://{id}"}, "exactly one of 'uri' and 'uri_template'"),
        ({"uri": None, "uri_template": "test://{+id}"}, "not a level 1 expression"),
        ({"uri": "no-scheme"}, "does not start with a URI scheme"),
        ({"mime_type": None}, "'mime_type'"),
        ({"scope": "nothing:here"}, "requires scope 'nothing:here'"),
        ({"description": None}, "'description'"),
    ],
    ids=["neither", "both", "level-2", "no-scheme", "no-mime-type", "unknown-scope", "no-description"],
)
def test_a_broken_resource_fails_start_up_with_its_name(monkeypatch, attributes, message):
    monkeypatch.setattr(catalogue, "entry_points", lambda group: [EntryPoint("probe", resource_class(**attributes))])

    with pytest.raises(CatalogueError, match=message) as raised:
        ResourceRegistry.from_entry_points()

    assert "'probe'" in str(raised.value)


def test_two_resources_with_one_uri_fail_start_up():
    with pytest.raises(CatalogueError, match="Two resources are named 'test://probe'"):
        ResourceRegistry([resource_class()(), resource_class()()])


class NumberArgument(Schema):
    count = fields.Integer()


class TextArgument(Schema):
    topic = json_fields.String()


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"Arguments": NumberArgument}, "the argument 'count' must be a tools.fields.String"),
        ({"Arguments": dict}, "Arguments must be a marshmallow Schema"),
        ({"name": "bad name"}, "names are 1-128 characters"),
    ],
    ids=["not-text", "not-a-schema", "bad-name"],
)
def test_a_broken_prompt_fails_start_up_with_its_name(attributes, message):
    prompt_class = type("Probe", (Prompt,), {"name": "probe", "description": "Probe.", "scope": "posts:read", "Arguments": TextArgument, **attributes})

    with pytest.raises(CatalogueError, match=message):
        prompt_registry._check("Prompt 'probe'", prompt_class)


def test_listings_are_computed_once_per_set_of_scopes():
    resources = Catalogue("resource", [resource_class()()])

    assert resources.listings_visible_to(frozenset({"posts:read"})) is resources.listings_visible_to(frozenset({"posts:read"}))
