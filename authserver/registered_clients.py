"""Clients that register themselves (RFC 7591 dynamic registration, RFC 7592 management) or describe
themselves in a client metadata document (oauth/cimd.py): their rows, from metadata already held to
the registration policy (oauth/registration.py). Deleting, disabling and pruning them is clients.py's."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from authserver.client_specs import ClientSpecError
from authserver.clients import new_client_id
from authserver.models import SELF_REGISTERED, Client, ClientSecret, InitialAccessToken
from authserver.oauth import client_secrets, initial_access_tokens
from authserver.oauth.registration import DESCRIPTIVE_FIELDS
from shared import scopes
from shared.db import db


@dataclass(frozen=True)
class RegisteredClient:
    """A client made by dynamic registration, with the credentials shown to it once."""

    client: Client
    client_secret: str | None
    registration_access_token: str


def register_client(metadata: dict[str, Any], initial_access_token: InitialAccessToken | None = None) -> RegisteredClient:
    """RFC 7591: a client from metadata held to the registration policy (registration.within). A
    registration with an initial access token spends one of its uses in the same transaction."""
    if initial_access_token is not None:
        initial_access_tokens.spend(initial_access_token)
    secret = None if metadata["token_endpoint_auth_method"] == "none" else client_secrets.generate()
    registration_token = secrets.token_urlsafe(32)
    client = Client(
        client_id=new_client_id(),
        secrets=[ClientSecret(secret_hash=client_secrets.hash_secret(secret))] if secret else [],
        registered_via=SELF_REGISTERED,
        registration_token_hash=client_secrets.hash_secret(registration_token),
    )
    _apply_metadata(client, metadata)
    db.session.add(client)
    db.session.commit()
    return RegisteredClient(client=client, client_secret=secret, registration_access_token=registration_token)


def update_registered_client(client: Client, metadata: dict[str, Any]) -> None:
    """RFC 7592 section 2.2: the new metadata (held to registration.within) replaces the old; the
    auth method cannot change."""
    if metadata["token_endpoint_auth_method"] != client.token_endpoint_auth_method:
        raise ClientSpecError("token_endpoint_auth_method cannot change; register a new client instead.")
    _apply_metadata(client, metadata)
    db.session.commit()


def find_registered(client_id: str, registration_token: str) -> Client | None:
    """The client if `registration_token` is its registration access token (constant-time check)."""
    client = db.session.scalar(select(Client).where(Client.client_id == client_id, Client.registered_via == SELF_REGISTERED))
    presented = client_secrets.hash_secret(registration_token)
    stored = client.registration_token_hash if client and client.registration_token_hash else ""
    return client if hmac.compare_digest(presented, stored) and client is not None else None


def metadata_columns(metadata: dict[str, Any]) -> dict[str, Any]:
    """A client's columns as RFC 7591 metadata (held to registration.within) sets them: a
    registration's, or a client metadata document's (oauth/cimd.py)."""
    return {
        "client_name": metadata.get("client_name") or "Unnamed application",
        "redirect_uris": list(metadata.get("redirect_uris", [])),
        "token_endpoint_auth_method": metadata["token_endpoint_auth_method"],
        "grant_types": " ".join(metadata["grant_types"]),
        "response_types": " ".join(metadata["response_types"]),
        # Resolved by registration.within: no default here, so no path can give a client every scope.
        "scope": " ".join(scopes.parse(metadata["scope"])),
        "client_metadata": {k: metadata[k] for k in DESCRIPTIVE_FIELDS if k in metadata},
    }


def _apply_metadata(client: Client, metadata: dict[str, Any]) -> None:
    for column, value in metadata_columns(metadata).items():
        setattr(client, column, value)
