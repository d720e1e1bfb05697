"""The developer page RFC 8414's `service_documentation` points at: who may register what (RFC 7591)."""

from __future__ import annotations

from flask import Blueprint, render_template

from authserver.oauth.initial_access_tokens import MAX_TTL_SECONDS
from shared.app import current_settings

bp = Blueprint("documentation", __name__)


@bp.get("/docs/registration")
def registration_policy() -> str:
    return render_template(
        "registration_policy.html",
        registration_endpoint=current_settings().issuer.rstrip("/") + "/register",
        max_token_days=MAX_TTL_SECONDS // 86400,
    )
