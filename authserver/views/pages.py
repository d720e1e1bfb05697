"""Helpers shared by the page blueprints: the signed-in person, and the error page."""

from __future__ import annotations

from flask import render_template, session

from authserver.models import User
from shared.db import db
from shared.logging import error_answered

SESSION_GENERATION = "session_generation"


def current_user() -> User | None:
    """The signed-in person: enabled, and signed in since their sessions last ended (users.end_sessions)."""
    user_id = session.get("user_id")
    user = db.session.get(User, user_id) if user_id else None
    if user is None or user.disabled_at is not None or session.get(SESSION_GENERATION) != user.session_generation:
        return None
    return user


def error_page(title: str, description: str, status: int = 400, detail: str | None = None) -> tuple[str, int]:
    """Our HTML error page, for a person's browser: `title` and `description` are shown, `detail`
    (what went wrong, in words for an operator) only logged."""
    error_answered(title, status, detail)
    return render_template("error.html", title=title, description=description), status
