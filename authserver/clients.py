"""Create OAuth clients: the one service behind the CLI (and later the portal and DCR)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from authserver.models import Client
from authserver.oauth import client_secrets
from shared import scopes
from shared.db import db

SUPPORTED_GRANT_TYPES = ("client_credentials",)
CLIENT_ID_BYTES = 18
DEMO_CLIENT_ID = "demo-agent"


class ClientSpecError(ValueError):
    """The requested client cannot be created; the message says what to change."""


@dataclass(frozen=True)
class NewClient:
    """A created client and its secret, which is shown once and never stored in clear."""

    client: Client
    client_secret: str


def create_client(name: str, scope: str, grant_types: list[str], client_id: str | None = None) -> NewClient:
    """Create a confidential client; `client_id` is random unless one is given."""
    requested = scopes.parse(scope)
    if unknown := scopes.unknown(requested):
        raise ClientSpecError(f"Unknown scopes: {' '.join(unknown)}. Known: {' '.join(sorted(scopes.SCOPE_NAMES))}.")
    if bad := [g for g in grant_types if g not in SUPPORTED_GRANT_TYPES]:
        raise ClientSpecError(f"Unsupported grant types: {' '.join(bad)}. Supported: {' '.join(SUPPORTED_GRANT_TYPES)}.")
    if not name.strip():
        raise ClientSpecError("A client needs a name.")
    secret = client_secrets.generate()
    client = Client(
        client_id=client_id or secrets.token_urlsafe(CLIENT_ID_BYTES),
        client_secret_hash=client_secrets.hash_secret(secret),
        client_name=name.strip(),
        scope=" ".join(requested),
        grant_types=" ".join(grant_types),
    )
    db.session.add(client)
    db.session.commit()
    return NewClient(client=client, client_secret=secret)


def reset_secret(client: Client) -> NewClient:
    """Give a client a new secret at once; the old one stops working."""
    secret = client_secrets.generate()
    client.client_secret_hash = client_secrets.hash_secret(secret)
    db.session.commit()
    return NewClient(client=client, client_secret=secret)


def demo_client() -> NewClient:
    """The demo agent of the quick-start, created once and given a fresh secret on every call."""
    client = db.session.scalar(select(Client).where(Client.client_id == DEMO_CLIENT_ID))
    if client is None:
        return create_client("Demo agent", " ".join(sorted(scopes.SCOPE_NAMES)), ["client_credentials"], DEMO_CLIENT_ID)
    return reset_secret(client)
