"""Clients as the OAuth machinery reads them: each time, or a recent copy for client_credentials."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from authserver.models import Client
from shared.db import db
from shared.unstorable import storable


def query_client(client_id: str) -> Client | None:
    """An enabled client by id, as Authlib asks for it (/authorize, the code and refresh grants):
    read each time, so a client disabled or deleted is refused at once."""
    return read_enabled_client(client_id)


def recent_client(client_id: str) -> Client | None:
    """An enabled client by id, as the client_credentials grant asks for it: a copy at most
    CLIENT_CACHE_SECONDS old, so a change to a client (disabled, a new secret) takes effect within
    that time (a disable or a delete at once in the process that made it); unknown ids are not kept."""
    return current_app.extensions["drawbridge.recent_clients"].get(client_id)


def read_enabled_client(client_id: str) -> Client | None:
    """An enabled client as a copy outside any session, only ever read: the session's own objects
    stay untouched. A disabled client is as unknown as a missing one, and so is an id no client can
    have: one holding a NUL, which the HTTP Basic header can carry (RFC 7617) and PostgreSQL refuses."""
    if not storable(client_id):
        return None
    row = db.session.execute(
        select(*Client.__table__.columns).where(Client.client_id == client_id, Client.disabled_at.is_(None))
    ).mappings().first()
    return Client(**row) if row is not None else None
