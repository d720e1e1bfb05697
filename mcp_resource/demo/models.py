"""Tables of the demo domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import UTCDateTime, db, utcnow

POST_STATUSES = ("draft", "published")


class Post(db.Model):
    """A blog post; drafts become visible to readers once published."""

    __tablename__ = "demo_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "status": self.status, "published_at": self.published_at}

    def detail(self) -> dict[str, Any]:
        return {**self.summary(), "body": self.body, "author": self.author, "created_at": self.created_at}
