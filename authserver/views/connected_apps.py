"""Connected apps: the clients a person let act for them, and disconnecting one (grants.py, the
service `drawbridge grants revoke` uses too): its tokens stop working at the MCP server at once."""

from __future__ import annotations

import logging

from flask import Blueprint, flash, g, redirect, render_template, url_for
from werkzeug.wrappers import Response  # what redirect() answers; flask.Response derives from it

from authserver import grants
from authserver.forms import ConfirmForm
from authserver.models import User
from authserver.views.pages import error_page, signed_in_only
from shared import scopes

logger = logging.getLogger(__name__)
bp = Blueprint("connected_apps", __name__)


@bp.get("/account/apps")
@signed_in_only
def index() -> str:
    user: User = g.user
    return render_template(
        "connected_apps.html", user=user, apps=grants.connected_apps(user.email), words=scopes.descriptions(), form=ConfirmForm()
    )


@bp.post("/account/apps/<client_id>/disconnect")
@signed_in_only
def disconnect(client_id: str) -> Response | tuple[str, int]:
    """The button's form carries only its CSRF token, which CSRFProtect checked before this view."""
    user: User = g.user
    try:
        revoked = grants.disconnect(user.email, client_id)
    except grants.GrantSpecError as error:
        return error_page(
            "No such connected app", "You have not connected this app, or it was disconnected already.", 404, str(error), _back()
        )
    logger.info("app_disconnected", extra={"user_id": user.id, "client_id": client_id, "grants": len(revoked)})
    flash(f"{revoked[0].client_name} is disconnected: it can no longer act for you.", "success")
    return redirect(url_for("connected_apps.index"))


def _back() -> tuple[str, str]:
    return ("Back to Connected apps", url_for("connected_apps.index"))
