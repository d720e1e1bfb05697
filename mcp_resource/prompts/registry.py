"""The prompts from the `drawbridge.prompts` entry points, each listed for the tokens holding its scope."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema

from mcp_resource.catalogue import Catalogue, CatalogueError, load
from mcp_resource.prompts.base import Prompt
from mcp_resource.tools import fields as json_fields
from mcp_resource.tools.registry import TOOL_NAME

ENTRY_POINT_GROUP = "drawbridge.prompts"


def from_entry_points() -> Catalogue[Prompt]:
    return Catalogue("prompt", load(ENTRY_POINT_GROUP, Prompt, "prompt", _check))


def _check(where: str, prompt_class: Any) -> None:
    if not TOOL_NAME.match(prompt_class.name):
        raise CatalogueError(f"{where}: names are 1-128 characters of letters, digits, '_', '-' and '.'.")
    arguments = prompt_class.Arguments
    if not (isinstance(arguments, type) and issubclass(arguments, Schema)):
        raise CatalogueError(f"{where}: Arguments must be a marshmallow Schema class.")
    for name, spec in arguments().fields.items():
        if not isinstance(spec, json_fields.String):
            raise CatalogueError(f"{where}: the argument {name!r} must be a tools.fields.String; prompt arguments are text.")
