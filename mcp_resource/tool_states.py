"""Operators' switches for tools, stored in the database every worker watches: one service for
`drawbridge tools` and the admin console."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from mcp_resource.models import ToolState
from mcp_resource.tools.registry import ToolRegistry
from shared.db import db, utcnow


class UnknownToolError(ValueError):
    """No installed tool has the name; the message says where to find them."""


@dataclass(frozen=True)
class ToolSwitch:
    """An installed tool as an operator sees it: its scope, and whether it is switched on."""

    name: str
    scope: str
    enabled: bool


def switches() -> list[ToolSwitch]:
    """Every installed tool, by name, with its switch."""
    off = disabled()
    registry = ToolRegistry.from_entry_points()
    return [ToolSwitch(name, registry.tool(name).scope, name not in off) for name in registry.names()]


def switch(name: str, enabled: bool) -> None:
    """Switch an installed tool on or off everywhere; connected clients hear tools/list_changed
    within seconds (notifications.py)."""
    if name not in ToolRegistry.from_entry_points().names():
        raise UnknownToolError(f"No tool named {name!r}; `drawbridge tools list` shows them.")
    state = db.session.get(ToolState, name) or ToolState(name=name)
    state.enabled = enabled
    state.changed_at = utcnow()
    db.session.add(state)
    db.session.commit()


def disabled() -> frozenset[str]:
    return frozenset(db.session.scalars(select(ToolState.name).where(ToolState.enabled.is_(False))))
