"""Operators' switches for tools, stored in the database every worker watches."""

from __future__ import annotations

from sqlalchemy import select

from mcp_resource.models import ToolState
from shared.db import db, utcnow


def switch(name: str, enabled: bool) -> None:
    state = db.session.get(ToolState, name) or ToolState(name=name)
    state.enabled = enabled
    state.changed_at = utcnow()
    db.session.add(state)
    db.session.commit()


def disabled() -> frozenset[str]:
    return frozenset(db.session.scalars(select(ToolState.name).where(ToolState.enabled.is_(False))))
