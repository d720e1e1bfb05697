"""The person's own account: log in and out, their home page, their password. Failed logins, and
wrong current passwords, slow down the address they come from (login_throttle.py)."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response  # what redirect() answers; flask.Response derives from it

from authserver import grants, users
from authserver.forms import ChangePasswordForm, ConfirmForm, LoginForm
from authserver.login_throttle import LoginThrottle, retry_message
from authserver.models import Client, User
from authserver.next_url import safe_next
from authserver.oauth.client_lookup import read_enabled_client
from authserver.services import services
from authserver.views.pages import SESSION_GENERATION, current_user, signed_in_only
from shared import metrics
from shared.db import db

logger = logging.getLogger(__name__)
bp = Blueprint("account", __name__)

# Connected apps named on the home page; the rest are a link away.
HOME_APPS_SHOWN = 5

Page = str | tuple[str, int] | tuple[str, int, dict[str, str]]


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | Page:
    form = LoginForm()
    next_url = safe_next(request.values.get("next"))
    asking = _asking_client(next_url)
    if request.method != "POST":  # GET, and HEAD with it
        return render_template("login.html", form=form, next_url=next_url, asking=asking)
    if not form.validate_on_submit():
        metrics.LOGINS.labels("incomplete").inc()
        return render_template("login.html", form=form, next_url=next_url, asking=asking), 400
    throttle: LoginThrottle = services().login_throttle
    # remote_addr is the client's address: with DRAWBRIDGE_TRUSTED_PROXY_COUNT set, ProxyFix
    # (shared/app.py) has taken it from the trusted proxies' X-Forwarded-For.
    email, ip = form.email.data or "", request.remote_addr or "unknown"
    if wait_seconds := throttle.admit(email, ip):
        logger.warning("login_throttled", extra={"ip": ip, "wait_seconds": wait_seconds})
        metrics.LOGINS.labels("throttled").inc()
        page = render_template("login.html", form=form, next_url=next_url, asking=asking, error=retry_message(wait_seconds))
        return page, 429, {"Retry-After": str(wait_seconds)}
    user = users.authenticate(email, form.password.data or "")
    if user is None:
        throttle.failed(email, ip)
        logger.info("login_failed", extra={"ip": ip})
        metrics.LOGINS.labels("failed").inc()
        return render_template("login.html", form=form, next_url=next_url, asking=asking, error="Wrong email or password."), 401
    throttle.succeeded(email, ip)
    session.clear()  # a new session id for the signed-in person (no fixation)
    session.permanent = True
    _sign_in(user)
    logger.info("login_succeeded", extra={"user_id": user.id})
    metrics.LOGINS.labels("succeeded").inc()
    return redirect(next_url)


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Response | str:
    """GET asks (a link cannot sign anybody out); POST signs the person out everywhere: a copy of any
    of their session cookies signs nobody in."""
    user = current_user()
    if request.method != "POST":
        return render_template("logout.html", user=user, form=ConfirmForm())
    if user is not None:
        users.end_sessions(user)
        db.session.commit()
        logger.info("logged_out", extra={"user_id": user.id})
    session.clear()
    flash("You are signed out, here and on every other device.", "success")
    return redirect(url_for("account.login"))


@bp.get("/")
@signed_in_only
def home() -> str:
    user: User = g.user
    apps = grants.connected_apps(user.email)
    return render_template("home.html", user=user, apps=apps[:HOME_APPS_SHOWN], more_apps=max(0, len(apps) - HOME_APPS_SHOWN))


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in_only
def password() -> Response | Page:
    user: User = g.user
    form = ChangePasswordForm()
    if request.method != "POST":
        return _password_page(form, 200)
    if not form.validate_on_submit():
        return _password_page(form, 400)
    throttle: LoginThrottle = services().login_throttle
    ip = request.remote_addr or "unknown"
    if wait_seconds := throttle.admit(user.email, ip):
        return *_password_page(form, 429, retry_message(wait_seconds)), {"Retry-After": str(wait_seconds)}
    try:
        users.change_own_password(user, form.current_password.data or "", form.new_password.data or "")
    except users.WrongPasswordError as error:
        throttle.failed(user.email, ip)
        form.current_password.errors = [str(error)]
        return _password_page(form, 400)
    except users.UserSpecError as error:
        form.new_password.errors = [str(error)]
        return _password_page(form, 400)
    throttle.succeeded(user.email, ip)
    _sign_in(user)  # every other session has ended; this one carries on
    flash("Your password is changed. You are signed out everywhere else.", "success")
    return redirect(url_for("account.home"))


def _password_page(form: ChangePasswordForm, status: int, error: str | None = None) -> tuple[str, int]:
    return render_template("password.html", user=g.user, form=form, min_length=users.MIN_PASSWORD_LENGTH, error=error), status


def _sign_in(user: User) -> None:
    session["user_id"] = user.id
    session[SESSION_GENERATION] = user.session_generation  # valid until their sessions end


def _asking_client(next_url: str) -> Client | None:
    """The application a login on the way to /authorize is for, when it is a client we know: the
    login page names it (its name is its own word when `unverified`)."""
    client_id = parse_qs(urlsplit(next_url).query).get("client_id", [""])[0]
    return read_enabled_client(client_id) if client_id and next_url.startswith(url_for("consent.authorize")) else None
