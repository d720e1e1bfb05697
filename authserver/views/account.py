"""Log in and out. Failed logins are throttled per account and per IP."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, redirect, render_template, request, session, url_for

from authserver import users
from authserver.forms import LoginForm
from authserver.next_url import safe_next
from authserver.passwords import LoginThrottle

logger = logging.getLogger(__name__)
bp = Blueprint("account", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int] | str:
    form = LoginForm()
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("login.html", form=form, next_url=next_url, error=None)
    if not form.validate_on_submit():
        return render_template("login.html", form=form, next_url=next_url, error="Fill in both fields and try again."), 400
    throttle: LoginThrottle = current_app.extensions["drawbridge.login_throttle"]
    email, ip = form.email.data or "", request.remote_addr or "unknown"
    if throttle.blocked(email, ip):
        logger.warning("login_throttled", extra={"ip": ip})
        error = "Too many failed attempts. Wait 15 minutes, then try again."
        return render_template("login.html", form=form, next_url=next_url, error=error), 429
    user = users.authenticate(email, form.password.data or "")
    if user is None:
        throttle.failed(email, ip)
        logger.info("login_failed", extra={"ip": ip})
        return render_template("login.html", form=form, next_url=next_url, error="Wrong email or password."), 401
    throttle.succeeded(email, ip)
    session.clear()  # a new session id for the signed-in person (no fixation)
    session.permanent = True
    session["user_id"] = user.id
    logger.info("login_succeeded", extra={"user_id": user.id})
    return redirect(next_url)


@bp.post("/logout")
def logout() -> Response:
    session.clear()
    return redirect(url_for("account.login"))


@bp.get("/")
def signed_in() -> str | Response:
    if "user_id" not in session:
        return redirect(url_for("account.login"))
    return render_template("error.html", title="You are signed in", description="Return to the application you came from.")
