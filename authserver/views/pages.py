"""Helpers shared by the page blueprints: the signed-in person, and the error page."""

from __future__ import annotations

from flask import render_template, session

from authserver.models import User
from shared.db import db


def current_user() -> User | None:
    user_id = session.get("user_id")
    user = db.session.get(User, user_id) if user_id else None
    return user if user is not None and user.disabled_at is None else None


def error_page(title: str, description: str, status: int = 400) -> tuple[str, int]:
    return render_template("error.html", title=title, description=description), status
