"""Signing keys in the admin console: their states and a rotation, as `drawbridge keys list` and
`drawbridge keys rotate` (keys.py)."""

from __future__ import annotations

import logging

from flask import flash, g, redirect, render_template, url_for
from werkzeug.wrappers import Response

from authserver import keys as signing_keys
from authserver.forms import ConfirmForm
from authserver.views.admin.blueprint import bp
from shared.app import current_settings

logger = logging.getLogger(__name__)


@bp.get("/keys")
def keys_index() -> str:
    listed = signing_keys.summaries(current_settings().access_token_ttl_seconds)
    return render_template("admin/keys.html", user=g.user, keys=listed, form=ConfirmForm())


@bp.post("/keys/rotate")
def rotate_key() -> Response:
    """Nothing is lost by a rotation (the old key stays published until its tokens expire): no confirmation."""
    key = signing_keys.rotate()
    logger.info("admin_key_rotated", extra={"user_id": g.user.id, "kid": key.kid})
    flash(f"New signing key {key.kid}: every worker signs with it within a second or two.", "success")
    return redirect(url_for("admin.keys_index"))
