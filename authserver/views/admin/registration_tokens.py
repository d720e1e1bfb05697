"""Registration tokens in the admin console: the initial access tokens (RFC 7591) operators issue
for machine clients; list (never the tokens), create (shown once), revoke; as `drawbridge
registration-tokens` (oauth/initial_access_tokens.py)."""

from __future__ import annotations

import logging

from flask import flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from authserver.forms import ConfirmForm, RegistrationTokenForm
from authserver.oauth import initial_access_tokens
from authserver.views.admin.blueprint import bp, confirm_page
from authserver.views.pages import error_page
from shared import scopes

logger = logging.getLogger(__name__)

Page = str | tuple[str, int] | tuple[str, int, dict[str, str]]


@bp.get("/registration-tokens")
def registration_tokens_index() -> Page:
    return _page(_form(), 200)


@bp.post("/registration-tokens")
def create_registration_token() -> Page:
    """The new token is on this answer only (not stored, not in a cookie): it is shown once."""
    form = _form()
    if not form.validate_on_submit():
        return _page(form, 400)
    try:
        new = initial_access_tokens.issue(" ".join(form.scopes.data or []), form.expires_in.data, form.uses.data)
    except initial_access_tokens.InitialAccessTokenSpecError as error:  # lifetime and uses are the form's choices
        form.scopes.errors = [str(error)]
        return _page(form, 400)
    logger.info("admin_registration_token_created", extra={"user_id": g.user.id, "initial_access_token_id": new.row.id})
    page = render_template("admin/registration_token_created.html", user=g.user, new=new)
    return page, 201, {"Cache-Control": "no-store"}


@bp.route("/registration-tokens/<int:token_id>/revoke", methods=["GET", "POST"])
def revoke_registration_token(token_id: int) -> Response | Page:
    if request.method != "POST":
        if token_id not in {t.id for t in initial_access_tokens.list_issued(include_unusable=True)}:
            return _no_such_token(f"registration token {token_id}")
        return confirm_page(
            f"Revoke registration token {token_id}?",
            "It registers no more clients. The clients it registered stay.",
            "Revoke",
            url_for("admin.registration_tokens_index"),
        )
    try:
        initial_access_tokens.revoke(token_id)
    except initial_access_tokens.InitialAccessTokenSpecError as error:
        return _no_such_token(str(error))
    logger.info("admin_registration_token_revoked", extra={"user_id": g.user.id, "initial_access_token_id": token_id})
    flash(f"Registration token {token_id} is revoked.", "success")
    return redirect(url_for("admin.registration_tokens_index"))


def _form() -> RegistrationTokenForm:
    form = RegistrationTokenForm()
    form.scopes.choices = [(name, f"{name}: {words}") for name, words in sorted(scopes.descriptions().items())]
    return form


def _page(form: RegistrationTokenForm, status: int) -> tuple[str, int]:
    issued = initial_access_tokens.list_issued(include_unusable=True)
    return render_template("admin/registration_tokens.html", user=g.user, form=form, issued=issued, button=ConfirmForm()), status


def _no_such_token(detail: str) -> tuple[str, int]:
    return error_page(
        "No such registration token", "There is no registration token with this id; it may have been revoked already.", 404,
        detail, ("Back to Registration tokens", url_for("admin.registration_tokens_index")),
    )
