"""The grants people gave clients (a consent exchanged for tokens): list them, revoke one.

One service for the CLI and the pages. A grant is the family of every token issued under one
authorization (oauth/refresh_tokens.py); revoking it ends its refresh tokens and voids its access
tokens at the resource server on their next call, and forgets the consent the person gave the
client for that resource, so the client cannot come back through /authorize unasked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, delete, func, select

from authserver.models import Client, Consent, Grant, RefreshToken, User
from authserver.oauth import refresh_tokens
from authserver.users import UserSpecError, find_user
from shared.db import db


class GrantSpecError(ValueError):
    """No such grant, person or client; the message names it."""


@dataclass(frozen=True)
class GrantSummary:
    """A grant as an operator or the person sees it."""

    grant_id: str
    client_id: str
    client_name: str
    user_email: str
    scope: str
    resource: str
    created_at: datetime
    #: When a token was last issued under it: the code's exchange, then each refresh.
    last_used_at: datetime
    revoked_at: datetime | None


def list_grants(user_email: str | None = None, client_id: str | None = None, include_revoked: bool = False) -> list[GrantSummary]:
    """Grants, newest first: every one, a person's, a client's, or those one person gave one client.
    Revoked grants only with `include_revoked`. A person or client that does not exist is a GrantSpecError."""
    query = _summaries()
    if user_email is not None:
        query = query.where(Grant.user_id == _user_id(user_email))
    if client_id is not None:
        if db.session.scalar(select(Client.id).where(Client.client_id == client_id)) is None:
            raise GrantSpecError(f"No client with id {client_id}.")
        query = query.where(Grant.client_id == client_id)
    if not include_revoked:
        query = query.where(Grant.revoked_at.is_(None))
    return [GrantSummary(*row) for row in db.session.execute(query.order_by(Grant.created_at.desc(), Grant.id))]


def revoke(grant_id: str) -> GrantSummary:
    """End a grant: its refresh tokens fail at once, and so do its access tokens at the resource
    server; the consent behind it is forgotten. The database is changed first; if Redis then cannot
    take the access tokens' revocation (redis.RedisError), running this again writes it."""
    grant = db.session.get(Grant, grant_id)
    if grant is None:
        raise GrantSpecError(f"No grant with id {grant_id}.")
    db.session.execute(
        delete(Consent).where(Consent.user_id == grant.user_id, Consent.client_id == grant.client_id, Consent.resource == grant.resource)
    )
    refresh_tokens.revoke_grant(grant, reason="revoked")  # commits a new revocation, then writes it to the revocation set
    db.session.commit()  # the consent, when the grant was revoked before
    return GrantSummary(*db.session.execute(_summaries().where(Grant.id == grant_id)).one())


def _summaries() -> Select[str, str, str, str, str, str, datetime, datetime, datetime | None]:
    """GrantSummary's columns, in its order."""
    # Per grant, through the index on refresh_tokens.grant_id: a person's few grants read only theirs.
    last_token = select(func.max(RefreshToken.created_at)).where(RefreshToken.grant_id == Grant.id).scalar_subquery()
    return (
        select(
            Grant.id, Grant.client_id, Client.client_name, User.email, Grant.scope, Grant.resource, Grant.created_at,
            func.coalesce(last_token, Grant.created_at), Grant.revoked_at,
        )
        .join(Client, Client.client_id == Grant.client_id)
        .join(User, User.id == Grant.user_id)
    )


def _user_id(email: str) -> int:
    try:
        return find_user(email).id
    except UserSpecError as error:
        raise GrantSpecError(str(error)) from None
