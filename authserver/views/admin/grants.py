"""Grants in the admin console: the list, filtered by person and client, and revoking one; through
the service `drawbridge grants` calls (grants.py)."""

from __future__ import annotations

import logging

from flask import flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from authserver import grants
from authserver.client_summaries import list_clients
from authserver.forms import GrantFilterForm
from authserver.views.admin.blueprint import bp, confirm_page
from authserver.views.pages import error_page

logger = logging.getLogger(__name__)

Page = str | tuple[str, int]


@bp.get("/grants")
def grants_index() -> Page:
    form = GrantFilterForm(request.args)
    form.client.choices = [("", "Every client")] + [(c.client_id, f"{c.name} ({c.client_id})") for c in list_clients()]
    found: list[grants.GrantSummary] = []
    status = 200
    if form.validate():
        try:
            found = grants.list_grants(form.person.data or None, form.client.data or None, form.revoked.data)
        except grants.GrantSpecError as error:  # the client is one of the choices: the person is unknown
            form.person.errors = [str(error)]
            status = 400
    else:
        status = 400
    return render_template("admin/grants.html", user=g.user, form=form, grants=found), status


@bp.route("/grants/<grant_id>/revoke", methods=["GET", "POST"])
def revoke_grant(grant_id: str) -> Response | Page:
    try:
        grant = grants.find_grant(grant_id)
    except grants.GrantSpecError as error:
        return _no_live_grant(str(error))
    if grant.revoked_at is not None:
        return _no_live_grant(f"grant {grant_id} was revoked before")
    if request.method != "POST":
        return confirm_page(
            f"Revoke {grant.user_email}'s grant to {grant.client_name}?",
            "Its refresh and access tokens stop working at once, and the app must ask the person again.",
            "Revoke",
            url_for("admin.grants_index", person=grant.user_email),
        )
    grants.revoke(grant_id)
    logger.info("admin_grant_revoked", extra={"user_id": g.user.id, "grant_id": grant_id})
    flash(f"The grant is revoked: {grant.client_name} no longer acts for {grant.user_email}.", "success")
    return redirect(url_for("admin.grants_index", person=grant.user_email))


def _no_live_grant(detail: str) -> tuple[str, int]:
    return error_page(
        "No such grant", "There is no live grant with this id; it may have been revoked already.", 404, detail,
        ("Back to Grants", url_for("admin.grants_index")),
    )
