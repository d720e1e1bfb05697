"""The admin console's blueprint and what its pages share: one gate for every page (people holding
the admin role only), and the page that asks before something is undone for good."""

from __future__ import annotations

from flask import Blueprint, g, render_template

from authserver.forms import ConfirmForm
from authserver.views.pages import role_only

ADMIN = "admin"

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@role_only(ADMIN)
def admins_only() -> None:
    """Every admin page and action, before its view runs: somebody signed out goes to log in,
    somebody without the admin role gets a 403 page (`drawbridge users role EMAIL admin` gives it)."""


def confirm_page(question: str, consequence: str, action: str, cancel_url: str) -> str:
    """Asks before an action that cannot be taken back: the form posts to this same address."""
    return render_template(
        "admin/confirm.html", user=g.user, question=question, consequence=consequence, action=action, cancel_url=cancel_url,
        form=ConfirmForm(),
    )
