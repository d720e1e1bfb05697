"""Log in and out. Failed logins slow down the address they come from (login_throttle.py)."""

from __future__ import annotations

import logging

from flask import Blueprint, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response  # what redirect() answers; flask.Response derives from it

from authserver import users
from authserver.forms import LoginForm
from authserver.login_throttle import LoginThrottle, retry_message
from authserver.next_url import safe_next
from authserver.services import services
from authserver.views.pages import SESSION_GENERATION, current_user
from shared import metrics
from shared.db import db

logger = logging.getLogger(__name__)
bp = Blueprint("account", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int] | tuple[str, int, dict[str, str]] | str:
    form = LoginForm()
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("login.html", form=form, next_url=next_url, error=None)
    if not form.validate_on_submit():
        metrics.LOGINS.labels("incomplete").inc()
        return render_template("login.html", form=form, next_url=next_url, error="Fill in both fields and try again."), 400
    throttle: LoginThrottle = services().login_throttle
    # remote_addr is the client's address: with DRAWBRIDGE_TRUSTED_PROXY_COUNT set, ProxyFix
    # (shared/app.py) has taken it from the trusted proxies' X-Forwarded-For.
    email, ip = form.email.data or "", request.remote_addr or "unknown"
    if wait_seconds := throttle.admit(email, ip):
        logger.warning("login_throttled", extra={"ip": ip, "wait_seconds": wait_seconds})
        metrics.LOGINS.labels("throttled").inc()
        page = render_template("login.html", form=form, next_url=next_url, error=retry_message(wait_seconds))
        return page, 429, {"Retry-After": str(wait_seconds)}
    user = users.authenticate(email, form.password.data or "")
    if user is None:
        throttle.failed(email, ip)
        logger.info("login_failed", extra={"ip": ip})
        metrics.LOGINS.labels("failed").inc()
        return render_template("login.html", form=form, next_url=next_url, error="Wrong email or password."), 401
    throttle.succeeded(email, ip)
    session.clear()  # a new session id for the signed-in person (no fixation)
    session.permanent = True
    session["user_id"] = user.id
    session[SESSION_GENERATION] = user.session_generation  # valid until their sessions end
    logger.info("login_succeeded", extra={"user_id": user.id})
    metrics.LOGINS.labels("succeeded").inc()
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
