"""Clients as the OAuth machinery reads them: each time, or a recent copy for client_credentials."""

from __future__ import annotations

from datetime import datetime

from authlib.oauth2.rfc6749 import AuthorizationServer, InvalidClientError, OAuth2Request
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from authserver import clients
from authserver.models import Client, ClientSecret
from authserver.oauth import cimd, client_secrets
from authserver.oauth.errors import detail_of, detailed
from authserver.services import services
from shared.db import db, utcnow
from shared.unstorable import storable

# Every failure to authenticate a client reads the same, so a caller cannot tell unknown ids from wrong secrets.
CLIENT_AUTHENTICATION_FAILED = "Client authentication failed."
# A secret's columns under names of their own beside the client's (both have id, created_at...).
_SECRET_LABELS = {f"secret_{column.name}": column for column in ClientSecret.__table__.columns}
_SECRET_COLUMNS = [column.label(label) for label, column in _SECRET_LABELS.items()]


def query_client(client_id: str) -> Client | None:
    """An enabled client by id, as Authlib asks for it (/authorize, the code and refresh grants):
    read each time, so a client disabled or deleted is refused at once. An https URL names a client
    metadata document (cimd.py): its client as the document describes it, or ClientDocumentError."""
    if cimd.names_document(client_id):
        return cimd.client(client_id)
    return read_enabled_client(client_id)


def recent_client(client_id: str, now: datetime) -> Client | None:
    """An enabled client by id, as the client_credentials grant asks for it: a copy at most
    CLIENT_CACHE_SECONDS old, so a change to a client (disabled, a new secret) takes effect within
    that time (a disable or a delete at once in the process that made it); unknown ids are not kept.
    An expiry, the client's or a secret's, the copy carries: it holds from its very moment (`now`)."""
    client = services().recent_clients.get(client_id)
    return None if client is None or client.expired(now) else client


def read_enabled_client(client_id: str) -> Client | None:
    """An enabled client as a copy outside any session, only ever read: the session's own objects
    stay untouched. It carries its live secrets, read in the same query. A disabled or expired
    client is as unknown as a missing one, and so is an id no client can have: one holding a NUL,
    which the HTTP Basic header can carry (RFC 7617) and PostgreSQL refuses."""
    if not storable(client_id):
        return None
    now = utcnow()
    rows = db.session.execute(
        select(*Client.__table__.columns, *_SECRET_COLUMNS)
        .outerjoin(ClientSecret, and_(ClientSecret.client_id == Client.client_id, _live(ClientSecret.expires_at, now)))
        .where(Client.client_id == client_id, Client.disabled_at.is_(None), _live(Client.expires_at, now))
        .order_by(ClientSecret.id)
    ).mappings().all()
    if not rows:
        return None
    secrets = [
        ClientSecret(**{column.name: row[label] for label, column in _SECRET_LABELS.items()})
        for row in rows
        if row["secret_id"] is not None
    ]
    return Client(**{column.name: rows[0][column.name] for column in Client.__table__.columns}, secrets=secrets)


def _live(expires_at: InstrumentedAttribute[datetime | None], now: datetime) -> ColumnElement[bool]:
    return or_(expires_at.is_(None), expires_at > now)


def authenticate_endpoint_client(server: AuthorizationServer, request: OAuth2Request, methods: list[str], endpoint: str) -> Client:
    """The client of a revocation or introspection request, by one of `methods` (Authlib's client
    authentication, reading the client each time). Every failure is 401 invalid_client with a Basic
    challenge (RFC 6749 section 5.2), whatever went wrong: an unknown id, a wrong secret, a method the
    client may not use, or a Basic header that is not UTF-8 (server.py). Its use, and its secret's,
    is noted as the token endpoint notes it (clients.mark_used)."""
    try:
        # Authlib's stubs name any ClientMixin; query_client gives ours, a Client, which has its methods.
        client: Client = server.authenticate_client(request, methods, endpoint)  # type: ignore[assignment]
    except InvalidClientError as error:
        refusal = InvalidClientError(status_code=401, description=CLIENT_AUTHENTICATION_FAILED)
        raise detailed(refusal, detail_of(error) or error.description) from None
    request.client = client  # type: ignore[assignment]  # as above
    if clients.mark_used(client, client_secrets.authenticating(client.client_id)):
        db.session.commit()
    return client
