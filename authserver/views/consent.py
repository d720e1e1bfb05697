"""/authorize: validate the client's request, ask the person, send the browser back with a code."""

from __future__ import annotations

import logging

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from werkzeug.wrappers import Response  # what redirect() answers; flask.Response derives from it

from authserver.extensions import authorization, csrf
from authserver.forms import ConsentForm
from authserver.models import Client, Consent, User
from authserver.oauth import redirect_uris, refresh_tokens
from authserver.oauth.errors import detail_of
from authserver.oauth.redirect_uris import host_of, is_loopback
from authserver.oauth.transport import require_secure_transport
from authserver.views.pages import current_user, error_page
from shared import scopes
from shared.app import current_settings
from shared.db import db
from shared.scopes import Effect

logger = logging.getLogger(__name__)
bp = Blueprint("consent", __name__)

FORM_EXPIRED = (
    "This page was open too long, so nothing was sent. Your choices are as you left them: check them "
    "and choose Allow or Deny again."
)


@bp.route("/authorize", methods=["GET", "POST"])
def authorize() -> Response | tuple[str, int] | str:
    """CSRFProtect leaves this view's POST to it (authserver/__init__.py) and it runs the same check
    itself (the token, and over https the Referer), so that an expired form shows the page again
    with the person's choices instead of a dead end."""
    user = current_user()
    try:
        require_secure_transport()
        grant = authorization.get_consent_grant(end_user=user)
    except OAuth2Error as error:
        return _refuse(error)
    if user is None:
        return redirect(url_for("account.login", next=request.full_path))
    client: Client = grant.client
    requested = scopes.parse(grant.request.scope)
    resource: str = grant.request.resource
    form = ConsentForm()
    # WTForms takes plain values as choices (each its own label); types-wtforms admits only pairs.
    form.granted.choices = requested  # type: ignore[assignment]
    if request.method != "POST":  # GET, and HEAD with it
        if set(requested) <= _remembered(user, client, resource) and not _impersonable(client, grant):
            return authorization.create_authorization_response(grant_user=user, grant=grant)
        return _consent_page(form, grant, user, requested, chosen=_ticked_at_first(requested))
    # What the person ticked, of what was asked: kept through every error below.
    chosen = [s for s in requested if s in set(form.granted.data or [])]
    try:
        csrf.protect()
    except CSRFError as error:  # expired, missing or foreign: nothing is decided, no code is sent
        logger.info("consent_form_refused", extra={"client_id": client.client_id, "reason": error.description})
        return _consent_page(form, grant, user, requested, chosen, error=FORM_EXPIRED)
    if not form.validate_on_submit():
        return _refuse_unasked(form, requested)
    if form.decision.data != "approve":
        logger.info("consent_denied", extra={"client_id": client.client_id, "user_id": user.id})
        return authorization.create_authorization_response(grant_user=None, grant=grant)
    if not chosen:
        return _consent_page(form, grant, user, requested, chosen, error="Tick at least one permission, or choose Deny.")
    _remember(user, client, resource, chosen)
    grant.consented_scope = " ".join(chosen)
    logger.info("consent_given", extra={"client_id": client.client_id, "user_id": user.id, "scope": grant.consented_scope})
    return authorization.create_authorization_response(grant_user=user, grant=grant)


def _refuse(error: OAuth2Error) -> Response | tuple[str, int]:
    """Errors go back to the client only once its redirect URI is known to be its own."""
    if error.redirect_uri:
        return authorization.create_authorization_error_response(error)
    # Authlib's errors all carry an error code; the base class alone may not. Their status is 400,
    # but for one that says otherwise (too many client metadata documents fetched: 429).
    description = error.description or error.error or "invalid_request"
    return error_page("This sign-in request is not valid", description, error.status_code, detail_of(error))


def _refuse_unasked(form: ConsentForm, requested: list[str]) -> tuple[str, int]:
    """A consent granting a permission the application never asked for (RFC 6749 §3.3: only
    requested scopes can be granted); its CSRF token was checked before."""
    offered = " ".join(requested)
    unasked = " ".join(s for s in form.granted.data or [] if s not in requested)
    return error_page("This permission was not asked for", f"The application asked for {offered}, not {unasked}.")


def _ticked_at_first(requested: list[str]) -> list[str]:
    """The permissions ticked before the person touches the page: those that only read. One that
    changes or deletes data the person ticks themselves."""
    effects = scopes.effects()
    return [s for s in requested if effects.get(s) is Effect.READS]


def _consent_page(
    form: ConsentForm, grant, user: User, requested: list[str], chosen: list[str], error: str | None = None
) -> tuple[str, int]:
    tools, effects = scopes.tools_by_scope(), scopes.effects()
    described = [
        {"name": s.name, "description": s.description, "tools": tools.get(s.name, ()), "effect": effects[s.name].value}
        for s in scopes.SCOPES
        if s.name in requested
    ]
    client: Client = grant.client
    redirect_uri = grant.request.payload.redirect_uri or grant.client.get_default_redirect_uri()
    page = render_template(
        "consent.html",
        form=form,
        client=client,
        user=user,
        requested=described,
        chosen=set(chosen),
        resource=grant.request.resource,
        # Without a refresh token the access ends with the access token; with one, when the person
        # disconnects the app, or when it goes unused as long as a refresh token lives.
        refresh_days=refresh_tokens.REFRESH_TOKEN_TTL_DAYS if client.check_grant_type("refresh_token") else None,
        access_minutes=current_settings().access_token_ttl_seconds // 60,
        redirect_host=host_of(redirect_uri),
        loopback=is_loopback(redirect_uri),
        # A client known from its metadata document names itself: the person sees whose site says so
        # (draft-ietf-oauth-client-id-metadata-document-01 section 6.4; MCP 2025-11-25, "Trust Policies").
        document_host=host_of(client.client_id) if client.from_metadata_document else None,
        error=error,
    )
    return page, 200 if error is None else 400


def _impersonable(client: Client, grant) -> bool:
    """Whether anyone could be asking as this client: one known from its metadata document (a public
    URL) sending the code to a loopback port, which any program on the person's computer can listen
    on (MCP 2025-11-25, "Localhost Redirect URI Risks"). RFC 8252 section 8.6: unless the client's
    identity can be assured, a request is processed "as if no previous request had been approved"."""
    redirect_uri = grant.request.payload.redirect_uri or client.get_default_redirect_uri()
    return client.from_metadata_document and redirect_uri is not None and is_loopback(redirect_uri)


def _consent(user: User, client: Client, resource: str) -> Consent | None:
    return db.session.scalar(
        select(Consent).where(Consent.user_id == user.id, Consent.client_id == client.client_id, Consent.resource == resource)
    )


def _remembered(user: User, client: Client, resource: str) -> set[str]:
    """What the person allowed this client for this resource (RFC 8707), while the client's redirect
    URIs are the ones it had then: whoever holds the registration access token may change them
    (RFC 7592), and a remembered consent must not send codes to a URI the person never saw."""
    consent = _consent(user, client, resource)
    if consent is None or consent.redirect_uris_sha256 != redirect_uris.fingerprint(client.redirect_uris):
        return set()
    return set(consent.scope.split())


def _remember(user: User, client: Client, resource: str, chosen: list[str]) -> None:
    consent = _consent(user, client, resource) or Consent(user_id=user.id, client_id=client.client_id, resource=resource)
    consent.scope = " ".join(chosen)
    consent.redirect_uris_sha256 = redirect_uris.fingerprint(client.redirect_uris)
    db.session.add(consent)
    db.session.commit()
