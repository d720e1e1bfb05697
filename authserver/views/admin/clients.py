"""Clients in the admin console: the list, one client's page, its limits, disabling, enabling and
deleting it; each through the service `drawbridge clients` calls (clients.py, client_summaries.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from authserver import clients
from authserver.client_specs import ClientSpecError
from authserver.client_summaries import ClientSummary, describe_client, list_clients
from authserver.forms import ConfirmForm, RateLimitForm
from authserver.views.admin.blueprint import bp, confirm_page
from authserver.views.pages import error_page
from shared.app import current_settings
from shared.policy import Defaults

logger = logging.getLogger(__name__)

Page = str | tuple[str, int]


@bp.get("/clients")
def clients_index() -> str:
    return render_template("admin/clients.html", user=g.user, clients=list_clients())


@bp.get("/clients/<path:client_id>")
def client(client_id: str) -> Page:
    found = _described(client_id)
    if isinstance(found, tuple):
        return found
    form = RateLimitForm(
        per_minute=found.rate_limit_per_minute,
        person=found.person_rate_limit_per_minute,
        tools="\n".join(f"{name} {limit}" for name, limit in found.tool_rate_limits.items()),
    )
    return _client_page(found, form, 200)


@bp.post("/clients/<path:client_id>/limits")
def set_limits(client_id: str) -> Response | Page:
    """As `drawbridge clients limit`: every resource server applies the new limits from the next call."""
    found = _described(client_id)
    if isinstance(found, tuple):
        return found
    form = RateLimitForm()
    if not form.validate_on_submit():
        return _client_page(found, form, 400)
    written = form.tool_limits()
    dropped = {name: None for name in found.tool_rate_limits if name not in written}  # a line removed: its default again
    try:
        clients.set_rate_limit(client_id, form.per_minute.data, person=form.person.data, tools={**dropped, **written})
    except ClientSpecError as error:  # the form checked the numbers: what is left is an unknown tool's name
        form.tools.errors = [str(error)]
        return _client_page(found, form, 400)
    logger.info("admin_client_limits_set", extra={"user_id": g.user.id, "client_id": client_id})
    flash(f"{found.name}: the new limits apply from its next call.", "success")
    return redirect(url_for("admin.client", client_id=client_id))


@bp.post("/clients/<path:client_id>/enable")
def enable_client(client_id: str) -> Response | Page:
    return _act(client_id, clients.enable_client, "{name} is enabled: it can get tokens again.")


@bp.route("/clients/<path:client_id>/disable", methods=["GET", "POST"])
def disable_client(client_id: str) -> Response | Page:
    if request.method != "POST":
        return _confirm(
            client_id, "Disable {name}?",
            "It gets no more tokens, and every token it holds stops working at once. You can enable it again later.",
            "Disable",
        )
    return _act(client_id, clients.disable_client, "{name} is disabled: its tokens no longer work.")


@bp.route("/clients/<path:client_id>/delete", methods=["GET", "POST"])
def delete_client(client_id: str) -> Response | Page:
    if request.method != "POST":
        return _confirm(
            client_id, "Delete {name} for good?",
            "Its id and secret stop working, every token it holds at once, and the grants people gave it are gone. "
            "This cannot be undone.",
            "Delete",
        )
    return _act(client_id, lambda cid: clients.delete_client(clients.find_client(cid)), "{name} is deleted.", back=False)


def _act(client_id: str, action: Callable[[str], object], done: str, back: bool = True) -> Response | Page:
    found = _described(client_id)
    if isinstance(found, tuple):
        return found
    action(client_id)
    logger.info("admin_client_changed", extra={"user_id": g.user.id, "client_id": client_id, "action": request.endpoint})
    flash(done.format(name=found.name), "success")
    return redirect(url_for("admin.client", client_id=client_id) if back else url_for("admin.clients_index"))


def _confirm(client_id: str, question: str, consequence: str, action: str) -> Page:
    found = _described(client_id)
    if isinstance(found, tuple):
        return found
    return confirm_page(question.format(name=found.name), consequence, action, url_for("admin.client", client_id=client_id))


def _described(client_id: str) -> ClientSummary | tuple[str, int]:
    try:
        return describe_client(client_id)
    except ClientSpecError as error:
        return error_page("No such client", "There is no client with this id; it may have been deleted.", 404, str(error), _back())


def _client_page(found: ClientSummary, form: RateLimitForm, status: int) -> tuple[str, int]:
    page = render_template(
        "admin/client.html", user=g.user, client=found, form=form, button=ConfirmForm(), defaults=Defaults.of(current_settings())
    )
    return page, status


def _back() -> tuple[str, str]:
    return ("Back to Clients", url_for("admin.clients_index"))
