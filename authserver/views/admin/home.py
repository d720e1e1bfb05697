"""The admin console's front page: a link to each area and to the operations dashboard."""

from __future__ import annotations

from flask import g, render_template

from authserver.views.admin.blueprint import bp


@bp.get("/")
def index() -> str:
    return render_template("admin/index.html", user=g.user)
