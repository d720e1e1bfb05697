"""Finding a row a tool was asked about, or telling the model how to find a real one."""

from __future__ import annotations

from typing import TypeVar

from mcp_resource.errors import ToolError
from shared.db import db

Row = TypeVar("Row")


def by_id(model: type[Row], ident: int, noun: str, list_tool: str) -> Row:
    row = db.session.get(model, ident)
    if row is None:
        raise ToolError(f"No {noun} with id {ident}; call {list_tool} to find ids.")
    return row
