"""Helpers shared by the page blueprints: the signed-in person, pages only they may see, and the error page."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import g, redirect, render_template, request, session, url_for

from authserver.models import User
from shared.db import db
from shared.logging import error_answered

SESSION_GENERATION = "session_generation"

View = TypeVar("View", bound=Callable[..., Any])


def current_user() -> User | None:
    """The signed-in person: enabled, and signed in since their sessions last ended (users.end_sessions)."""
    user_id = session.get("user_id")
    user = db.session.get(User, user_id) if user_id else None
    if user is None or user.disabled_at is not None or session.get(SESSION_GENERATION) != user.session_generation:
        return None
    return user


def signed_in_only(view: View) -> View:
    """A page for the signed-in person, found in `g.user`; anybody else is sent to log in, and back
    here afterwards when they came to read it (next_url.py lists the pages login may return to)."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        g.user = current_user()
        if g.user is None:
            back = request.full_path.rstrip("?") if request.method in ("GET", "HEAD") else None
            home = url_for("account.home")  # where login goes when it has nowhere else to go
            return redirect(url_for("account.login", next=None if back == home else back))
        return view(*args, **kwargs)

    return cast(View, guarded)


def role_only(role: str) -> Callable[[View], View]:
    """A page for signed-in people holding `role` (User.has_role); anybody else signed in gets a
    403 page saying so, and somebody signed out is sent to log in first."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not g.user.has_role(role):
                description = f"This page is for people with the {role} role. An operator gives it with: drawbridge users role EMAIL {role}"
                return error_page("Not for your account", description, 403, f"{role} role missing", ("Back to your account", url_for("account.home")))
            return view(*args, **kwargs)

        return signed_in_only(cast(View, guarded))

    return decorate


def error_page(
    title: str, description: str, status: int = 400, detail: str | None = None, next_step: tuple[str, str] | None = None
) -> tuple[str, int]:
    """Our HTML error page, for a person's browser: `title` and `description` are shown, `detail`
    (what went wrong, in words for an operator) only logged. `next_step` is a link (label, URL) to
    where the person can carry on; without one, the page says to start again from the application."""
    error_answered(title, status, detail)
    return render_template("error.html", title=title, description=description, next_step=next_step), status
