"""What the layout of every page (templates/base.html) needs: the navigation a person may use, and
times written for people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Flask, current_app, request, url_for
from markupsafe import Markup, escape

from authserver.models import User


@dataclass(frozen=True)
class NavLink:
    """A page in the navigation: shown once its view exists, and only to people holding `role`."""

    label: str
    endpoint: str
    role: str | None = None


# The developer portal and the admin console appear here as soon as their blueprints register
# these endpoints; until then nobody sees a link to a page that does not exist.
NAVIGATION = (
    NavLink("Account", "account.home"),
    NavLink("Connected apps", "connected_apps.index"),
    NavLink("Developer portal", "portal.index", role="developer"),
    NavLink("Admin console", "admin.index", role="admin"),
    NavLink("Operations", "dashboard.index", role="admin"),
)


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    current: bool


def init_app(app: Flask) -> None:
    app.add_template_global(navigation)
    app.add_template_filter(moment)
    app.add_template_filter(day)


def navigation(user: User | None) -> list[NavItem]:
    """The links `user` may follow; none for somebody signed out."""
    if user is None:
        return []
    return [
        NavItem(link.label, url_for(link.endpoint), current=request.endpoint == link.endpoint)
        for link in NAVIGATION
        if link.endpoint in current_app.view_functions and (link.role is None or user.has_role(link.role))
    ]


def moment(when: datetime | None, empty: str = "never") -> Markup:
    """A UTC time as `7 Dec 2026, 14:05 UTC` inside a <time> element (machine-readable too)."""
    if when is None:
        return Markup(escape(empty))
    words = f"{when.day} {when:%b %Y, %H:%M} UTC"
    return Markup('<time datetime="{}">{}</time>').format(when.isoformat(), words)


def day(when: datetime) -> Markup:
    """A UTC day as `7 Dec 2026` inside a <time> element."""
    return Markup('<time datetime="{}">{}</time>').format(when.date().isoformat(), f"{when.day} {when:%b %Y}")
