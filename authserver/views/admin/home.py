"""The admin console's front page: a link to each area (and to the operations dashboard once it exists)."""

from __future__ import annotations

from flask import current_app, g, render_template

from authserver.views.admin.blueprint import bp

DASHBOARD = "dashboard.index"


@bp.get("/")
def index() -> str:
    return render_template("admin/index.html", user=g.user, dashboard=DASHBOARD if DASHBOARD in current_app.view_functions else None)
