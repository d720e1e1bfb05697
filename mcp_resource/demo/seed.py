"""Demo data, added once: a database that already has posts is left alone."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from mcp_resource.demo.models import Post
from shared.db import db, utcnow

DEMO_POSTS = (
    ("Welcome to the Drawbridge blog", "Drawbridge puts an application behind MCP safely.", "published"),
    ("Scopes in plain words", "Every token carries scopes, and every tool names the one it needs.", "published"),
    ("Rate limits that hold", "One atomic Redis call per tool call keeps runaway agents in check.", "published"),
    ("Notes for the next release", "Consent screens, refresh rotation and the stateless protocol.", "draft"),
)


def seed() -> int:
    """Add the demo posts to an empty table; returns how many were added."""
    if db.session.scalar(select(func.count()).select_from(Post)):
        return 0
    now = utcnow()
    for age_days, (title, body, status) in enumerate(reversed(DEMO_POSTS)):
        created = now - timedelta(days=age_days)
        published = created if status == "published" else None
        db.session.add(Post(title=title, body=body, author="editor@example.com", status=status, created_at=created, published_at=published))
    db.session.commit()
    return len(DEMO_POSTS)
