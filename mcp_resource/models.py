"""The resource server's own tables (the demo domain's live in demo/models.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import UTCDateTime, db, utcnow


class ToolState(db.Model):
    """An operator's switch for one tool: a disabled tool is hidden and refused everywhere."""

    __tablename__ = "tool_states"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
