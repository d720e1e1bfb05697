"""People in the admin console: the list, one person's page, giving and taking roles, disabling
and enabling them; each through the service `drawbridge users` calls (users.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from authserver import users
from authserver.forms import ConfirmForm
from authserver.models import ROLES, User
from authserver.views.admin.blueprint import ADMIN, bp, confirm_page
from authserver.views.pages import error_page

logger = logging.getLogger(__name__)

Page = str | tuple[str, int]
# Taken from yourself here, these would lock you out of the page you are on.
NOT_ON_YOURSELF = "You cannot do this to yourself here: ask another admin, or use the drawbridge command."


@bp.get("/people")
def people_index() -> str:
    return render_template("admin/people.html", user=g.user, people=users.list_users())


@bp.get("/people/<email>")
def person(email: str) -> Page:
    found = _found(email)
    if isinstance(found, tuple):
        return found
    [summary] = [p for p in users.list_users() if p.email == found.email]
    return render_template("admin/person.html", user=g.user, person=summary, roles=ROLES, form=ConfirmForm())


@bp.post("/people/<email>/roles/<role>/give")
def give_role(email: str, role: str) -> Response | Page:
    return _change(email, lambda: users.assign_role(email, role), f"{{email}} now holds the {role} role.")


@bp.post("/people/<email>/roles/<role>/take")
def take_role(email: str, role: str) -> Response | Page:
    if role == ADMIN and _is_me(email):
        return error_page("Not on yourself", NOT_ON_YOURSELF, 400, "admin tried to drop their own admin role", _back(email))
    return _change(email, lambda: users.remove_role(email, role), f"{{email}} no longer holds the {role} role.")


@bp.post("/people/<email>/enable")
def enable_person(email: str) -> Response | Page:
    return _change(email, lambda: users.enable_user(email), "{email} is enabled: they can log in again.")


@bp.route("/people/<email>/disable", methods=["GET", "POST"])
def disable_person(email: str) -> Response | Page:
    if _is_me(email):
        return error_page("Not on yourself", NOT_ON_YOURSELF, 400, "admin tried to disable themselves", _back(email))
    if request.method != "POST":
        found = _found(email)
        if isinstance(found, tuple):
            return found
        return confirm_page(
            f"Disable {found.email}?",
            "They cannot log in, their sessions end, and every token issued for them stops working at once, in every app "
            "they connected. You can enable them again later; the tokens stay void.",
            "Disable",
            url_for("admin.person", email=found.email),
        )
    return _change(email, lambda: users.disable_user(email), "{email} is disabled: their sessions and tokens no longer work.")


def _change(email: str, action: Callable[[], User], done: str) -> Response | Page:
    try:
        changed = action()
    except users.UserSpecError as error:  # no such person, or a role that is not one: the address was made up
        return error_page("Nothing changed", str(error), 404, str(error), ("Back to People", url_for("admin.people_index")))
    logger.info("admin_person_changed", extra={"user_id": g.user.id, "person_id": changed.id, "action": request.endpoint})
    flash(done.format(email=changed.email), "success")
    return redirect(url_for("admin.person", email=changed.email))


def _found(email: str) -> User | tuple[str, int]:
    try:
        return users.find_user(email)
    except users.UserSpecError as error:
        return error_page("No such person", "Nobody has this email here.", 404, str(error), ("Back to People", url_for("admin.people_index")))


def _is_me(email: str) -> bool:
    return users.normalise_email(email) == g.user.email


def _back(email: str) -> tuple[str, str]:
    return ("Back to this person", url_for("admin.person", email=users.normalise_email(email)))
