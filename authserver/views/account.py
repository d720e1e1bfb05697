"""Log in and out. Failed logins are throttled per account and per IP."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, redirect, render_template, request, session, url_for

from authserver import users
from authserver.forms import LoginForm
from authserver.passwords import LoginThrottle
from authserver.views.pages import SESSION_GENERATION, current_user
from shared.db import db

logger = logging.getLogger(__name__)
bp = Blueprint("account", __name__)


def _safe_next(target: str | None) -> str:
    """Only a path on this server: never an open redirect to another origin."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("account.signed_in")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int] | str:
    form = LoginForm()
    next_url = _safe_next(request.values.get("next"))
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
    session[SESSION_GENERATION] = user.session_generation  # valid until their sessions end
    logger.info("login_succeeded", extra={"user_id": user.id})
    return redirect(next_url)


@bp.post("/logout")
def logout() -> Response:
    """Signs the person out everywhere: a copy of any of their session cookies signs nobody in."""
    user = current_user()
    if user is not None:
        users.end_sessions(user)
        db.session.commit()
        logger.info("logged_out", extra={"user_id": user.id})
    session.clear()
    return redirect(url_for("account.login"))


@bp.get("/")
def signed_in() -> str | Response:
    if current_user() is None:
        return redirect(url_for("account.login"))
    return render_template("error.html", title="You are signed in", description="Return to the application you came from.")
