"""The grants people gave clients (a consent exchanged for tokens): list them, revoke one; a
person's connected apps (their grants, one entry per client), and disconnecting one.

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


@dataclass(frozen=True)
class ConnectedApp:
    """A client as the person who connected it sees it: every live grant they gave it, together."""

    client_id: str
    client_name: str
    #: Its name is its own word (models.Client.unverified).
    unverified: bool
    #: Every scope of its live grants, sorted.
    scopes: tuple[str, ...]
    #: The resources (RFC 8707) those grants are for.
    resources: tuple[str, ...]
    #: When the first of them was given.
    granted_at: datetime
    last_used_at: datetime


def connected_apps(user_email: str) -> list[ConnectedApp]:
    """The clients the person has live grants to, the most recently used first."""
    by_client: dict[str, list[GrantSummary]] = {}
    for grant in list_grants(user_email=user_email):
        by_client.setdefault(grant.client_id, []).append(grant)
    clients = {c.client_id: c for c in db.session.scalars(select(Client).where(Client.client_id.in_(by_client)))}
    apps = [
        ConnectedApp(
            client_id=client_id,
            client_name=clients[client_id].client_name,
            unverified=clients[client_id].unverified,
            scopes=tuple(sorted({s for g in given for s in g.scope.split()})),
            resources=tuple(sorted({g.resource for g in given})),
            granted_at=min(g.created_at for g in given),
            last_used_at=max(g.last_used_at for g in given),
        )
        for client_id, given in by_client.items()
    ]
    return sorted(apps, key=lambda app: app.last_used_at, reverse=True)


def disconnect(user_email: str, client_id: str) -> list[GrantSummary]:
    """Revoke every live grant the person gave the client (each as `revoke` does): its tokens stop
    working and it must ask them again. A client they gave none is a GrantSpecError."""
    given = [g for g in list_grants(user_email=user_email) if g.client_id == client_id]
    if not given:
        raise GrantSpecError(f"{user_email} has given no access to a client with id {client_id}.")
    return [revoke(g.grant_id) for g in given]


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
    return find_grant(grant_id)


def find_grant(grant_id: str) -> GrantSummary:
    """One grant, revoked or not, or GrantSpecError saying there is none."""
    row = db.session.execute(_summaries().where(Grant.id == grant_id)).one_or_none()
    if row is None:
        raise GrantSpecError(f"No grant with id {grant_id}.")
    return GrantSummary(*row)


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
