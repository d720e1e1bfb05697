"""What the CLI and the pages show of clients: a summary of each, never a secret or its hash."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from authserver.client_specs import kind_of
from authserver.clients import find_client
from authserver.models import Client, ClientSecret, Grant
from shared import scopes
from shared.db import db


@dataclass(frozen=True)
class SecretInfo:
    """What may be shown of one of a client's secrets: when it was made, ends and was last used
    (at most SECRET_LAST_USED_RESOLUTION behind, clients.py); never its value or hash."""

    id: int
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True)
class ClientSummary:
    client_id: str
    name: str
    #: client_specs.py: machine, web or public.
    kind: str
    #: What a machine holds, or what an app may ask a person for.
    scopes: list[str]
    redirect_uris: list[str]
    grant_types: list[str]
    token_endpoint_auth_method: str
    #: Where it came from: "cli", "dcr" (dynamic registration, RFC 7591), or "cimd" (its metadata document).
    registered_via: str
    #: Its own tool-call limits per minute (shared/policy.py; None: the deployment's default): its
    #: calls, a person's through it, and each caller's of a tool (by name; a tool not named: its default).
    rate_limit_per_minute: int | None
    person_rate_limit_per_minute: int | None
    tool_rate_limits: dict[str, int]
    may_introspect: bool
    created_at: datetime
    last_used_at: datetime | None
    disabled_at: datetime | None
    #: From when it gets no token (secret_rotation.set_client_expiry); None: never.
    expires_at: datetime | None
    #: Its secrets, oldest first: one, or several while a rotation's grace runs (secret_rotation.py).
    secrets: list[SecretInfo]
    #: Grants people gave it and have not revoked (grants.py).
    live_grants: int
    #: RFC 7591 metadata a registered client sent (client_uri, contacts, ...).
    metadata: dict[str, Any]


def list_clients(kind: str | None = None, owner_id: int | None = None) -> list[ClientSummary]:
    """Every client (or those of one kind, or a developer's own: developer_clients.py), newest first."""
    live = select(Grant.client_id, func.count().label("n")).where(Grant.revoked_at.is_(None)).group_by(Grant.client_id).subquery()
    query = (
        select(Client, func.coalesce(live.c.n, 0))
        .options(selectinload(Client.secrets))
        .outerjoin(live, live.c.client_id == Client.client_id)
        .order_by(Client.created_at.desc(), Client.id.desc())
    )
    rows = db.session.execute(query if owner_id is None else query.where(Client.owner_id == owner_id))
    found = [summary(client, live_grants) for client, live_grants in rows]
    return [s for s in found if kind is None or s.kind == kind]


def describe_client(client_id: str) -> ClientSummary:
    """One client's summary, or ClientSpecError saying there is none."""
    client = find_client(client_id)
    live_grants = db.session.scalar(select(func.count()).where(Grant.client_id == client_id, Grant.revoked_at.is_(None)))
    return summary(client, live_grants or 0)


def summary(client: Client, live_grants: int) -> ClientSummary:
    return ClientSummary(
        client_id=client.client_id,
        name=client.client_name,
        kind=kind_of(client).name,
        scopes=scopes.parse(client.scope),
        redirect_uris=list(client.redirect_uris),
        grant_types=client.grant_types.split(),
        token_endpoint_auth_method=client.token_endpoint_auth_method,
        registered_via=client.registered_via,
        rate_limit_per_minute=client.rate_limit_per_minute,
        person_rate_limit_per_minute=client.person_rate_limit_per_minute,
        tool_rate_limits=dict(client.tool_rate_limits or {}),
        may_introspect=client.may_introspect,
        created_at=client.created_at,
        last_used_at=client.last_used_at,
        disabled_at=client.disabled_at,
        expires_at=client.expires_at,
        secrets=[_secret_info(secret) for secret in client.secrets],
        live_grants=live_grants,
        metadata=dict(client.client_metadata or {}),
    )


def _secret_info(secret: ClientSecret) -> SecretInfo:
    return SecretInfo(id=secret.id, created_at=secret.created_at, expires_at=secret.expires_at, last_used_at=secret.last_used_at)
