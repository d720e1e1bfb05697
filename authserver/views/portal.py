"""The developer portal (people with the developer role): their own clients, registering one, its
secret shown once, rotating it with a grace, disabling, enabling and deleting it, and its last 7
days of tool calls. Every change goes through the service layer the CLI uses (developer_clients.py,
clients.py, secret_rotation.py); a client that is not the developer's own is "not found" to them."""

from __future__ import annotations

import logging

from flask import Blueprint, flash, g, redirect, render_template, url_for
from werkzeug.wrappers import Response  # what redirect() answers; flask.Response derives from it

from authserver import clients, developer_clients, secret_handoff, secret_rotation, usage
from authserver.audit_selection import Filters
from authserver.client_specs import KINDS, ClientSpecError
from authserver.client_summaries import ClientSummary, describe_client
from authserver.forms import ClientForm, ConfirmForm, RotateSecretForm
from authserver.models import Client, User
from authserver.secret_handoff import NewSecret
from authserver.views.pages import error_page, role_only
from shared import scopes
from shared.app import current_settings

logger = logging.getLogger(__name__)
bp = Blueprint("portal", __name__, url_prefix="/portal")

DEVELOPER = "developer"
Page = str | tuple[str, int]


@bp.get("")
@role_only(DEVELOPER)
def index() -> str:
    user: User = g.user
    return render_template("portal.html", user=user, clients=developer_clients.owned_clients(user))


@bp.route("/clients/new", methods=["GET", "POST"])
@role_only(DEVELOPER)
def new() -> Response | Page:
    user: User = g.user
    form = ClientForm()
    if not form.is_submitted():
        return _new_page(form)
    if not form.validate():
        return _new_page(form, 400)
    kind, scope, uris = KINDS[form.kind.data], " ".join(form.scopes.data or []), form.redirect_uri_list()
    if problems := developer_clients.problems(form.name.data or "", kind, scope, uris):
        for part, message in problems.items():
            getattr(form, part).errors = [message]
        return _new_page(form, 400)
    created = developer_clients.register(user, form.name.data or "", kind, scope, uris)
    logger.info("portal_client_registered", extra={"user_id": user.id, "registered_client_id": created.client.client_id})
    flash(f"{created.client.client_name} is registered.", "success")
    if created.client_secret:
        secret_handoff.hand_over(user.id, created.client.client_id, NewSecret(created.client_secret))
    return redirect(url_for("portal.show", client_id=created.client.client_id))


@bp.get("/clients/<client_id>")
@role_only(DEVELOPER)
def show(client_id: str) -> Page:
    """The client; with its new secret once, when registering or rotating just made one."""
    return _client_page(developer_clients.owned_client(g.user, client_id), secret_handoff.take(g.user.id, client_id))


@bp.post("/clients/<client_id>/secret")
@role_only(DEVELOPER)
def rotate(client_id: str) -> Response | Page:
    client = developer_clients.owned_client(g.user, client_id)
    form = RotateSecretForm()
    if not form.validate():
        return _client_page(client, rotate_form=form, status=400)
    try:
        rotated = secret_rotation.rotate_secret(client.client_id, form.grace_seconds.data)
    except ClientSpecError as error:
        return error_page("This client has no secret", str(error), 400, next_step=_back_to(client))
    secret_handoff.hand_over(g.user.id, client.client_id, NewSecret(rotated.client_secret, rotated.previous_expire_at))
    flash("The secret is rotated. Copy the new one now: it is shown only this once.", "success")
    return redirect(url_for("portal.show", client_id=client.client_id))


@bp.post("/clients/<client_id>/disable")
@role_only(DEVELOPER)
def disable(client_id: str) -> Response | Page:
    """The button's form carries only its CSRF token, which CSRFProtect checked before this view."""
    client = developer_clients.owned_client(g.user, client_id)
    clients.disable_client(client.client_id)
    flash(f"{client.client_name} is disabled: it gets no token, and the tokens it holds no longer work.", "success")
    return redirect(url_for("portal.show", client_id=client.client_id))


@bp.post("/clients/<client_id>/enable")
@role_only(DEVELOPER)
def enable(client_id: str) -> Response | Page:
    client = developer_clients.owned_client(g.user, client_id)
    clients.enable_client(client.client_id)
    flash(f"{client.client_name} is enabled: it can get tokens again (those it held before stay void).", "success")
    return redirect(url_for("portal.show", client_id=client.client_id))


@bp.route("/clients/<client_id>/delete", methods=["GET", "POST"])
@role_only(DEVELOPER)
def delete(client_id: str) -> Response | Page:
    """GET asks (a link deletes nothing); POST deletes for good."""
    client = developer_clients.owned_client(g.user, client_id)
    if not ConfirmForm().is_submitted():
        return render_template("portal_delete.html", user=g.user, client=client, form=ConfirmForm())
    name = client.client_name
    clients.delete_client(client)
    logger.info("portal_client_deleted", extra={"user_id": g.user.id, "deleted_client_id": client_id})
    flash(f"{name} is deleted: its id and secrets no longer work, nor any token it held.", "success")
    return redirect(url_for("portal.index"))


@bp.errorhandler(developer_clients.NotYoursError)
def not_yours(error: developer_clients.NotYoursError) -> tuple[str, int]:
    """Another developer's client and no client look the same: neither is there for this person."""
    return error_page("No such client", "You have no client with this id.", 404, str(error), ("Back to your clients", url_for("portal.index")))


def _new_page(form: ClientForm, status: int = 200) -> tuple[str, int]:
    page = render_template(
        "portal_new.html",
        user=g.user,
        form=form,
        catalogue=_catalogue(),
        machine_scopes=developer_clients.machine_scopes(),
        no_machines=developer_clients.NO_MACHINES,
    )
    return page, status


def _client_page(
    client: Client, new_secret: NewSecret | None = None, rotate_form: RotateSecretForm | None = None, status: int = 200
) -> tuple[str, int]:
    found: ClientSummary = describe_client(client.client_id)
    recent = usage.client_usage(client.client_id)
    settings = current_settings()
    page = render_template(
        "portal_client.html",
        user=g.user,
        client=found,
        kind=KINDS[found.kind],
        words=scopes.descriptions(),
        new_secret=new_secret,
        usage=recent,
        days=usage.calls_per_day(recent.period, Filters(client_id=client.client_id), now=recent.period.end),
        rotate_form=rotate_form or RotateSecretForm(),
        form=ConfirmForm(),
        token_endpoint=settings.issuer.rstrip("/") + "/token",
        resource=settings.resource_url,
    )
    return page, status


def _catalogue() -> list[dict[str, object]]:
    """Each scope of the catalogue with its plain words, the tools it unlocks and what it does to data."""
    tools, effects = scopes.tools_by_scope(), scopes.effects()
    return [{"name": s.name, "description": s.description, "tools": tools.get(s.name, ()), "effect": effects[s.name].value} for s in scopes.SCOPES]


def _back_to(client: Client) -> tuple[str, str]:
    return (f"Back to {client.client_name}", url_for("portal.show", client_id=client.client_id))
