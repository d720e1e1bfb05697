"""A client's secrets over time: a new one with a grace for the old ones; a secret's and a client's expiry.

One service for the CLI and the portal. Nothing runs in the background: an expiry, a secret's or the
client's, is checked when the client authenticates (Client.find_secret, client_lookup.recent_client),
so an old secret stops at the end of its grace by itself. A change reaches the token endpoint's
copies of the client within cutoffs.CLIENT_CACHE_SECONDS (at once in the process that made it).
What may be shown of the secrets (never a value or a hash) is in client_summaries.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from authserver.client_specs import ClientSpecError
from authserver.clients import find_client
from authserver.models import Client, ClientSecret
from authserver.oauth import client_secrets
from authserver.services import AuthServices
from shared import services as shared_services
from shared.db import db, utcnow

logger = logging.getLogger(__name__)

# Longer than this is a mistake (a unit typed wrong), not a plan: a grace, or any expiry from now.
MAX_GRACE_SECONDS = 365 * 86400
MAX_LIFETIME_SECONDS = 3650 * 86400


@dataclass(frozen=True)
class RotatedSecret:
    """A client's new secret, shown once and never stored in clear, and when its old ones stop."""

    client_id: str
    client_secret: str
    expires_at: datetime | None
    # When the secrets it had before stop working (the end of the grace); None if it had none.
    previous_expire_at: datetime | None


def rotate_secret(client_id: str, grace_seconds: int, lifetime_seconds: int | None = None) -> RotatedSecret:
    """Give a confidential client a new secret (expiring after `lifetime_seconds`, if given). The
    secrets it had keep working for `grace_seconds` (an earlier expiry of theirs stands); a grace of
    0 ends them now. Secrets already expired are removed."""
    if not 0 <= grace_seconds <= MAX_GRACE_SECONDS:
        raise ClientSpecError(f"The grace must be between 0 and {MAX_GRACE_SECONDS // 86400} days.")
    if lifetime_seconds == 0:
        raise ClientSpecError("A new secret needs a lifetime longer than 0.")
    client = _confidential(client_id)
    now = utcnow()
    new_expiry = None if lifetime_seconds is None else _from_now(lifetime_seconds, now)
    grace_ends = now + timedelta(seconds=grace_seconds)
    previous_expire_at: datetime | None = None
    for secret in list(client.secrets):
        if secret.expired(now):
            client.secrets.remove(secret)
            continue
        ends = grace_ends if secret.expires_at is None else min(secret.expires_at, grace_ends)
        secret.expires_at = ends
        previous_expire_at = ends if previous_expire_at is None else max(previous_expire_at, ends)
    value = client_secrets.generate()
    client.secrets.append(ClientSecret(secret_hash=client_secrets.hash_secret(value), created_at=now, expires_at=new_expiry))
    db.session.commit()
    _forget(client_id)
    logger.info("client_secret_rotated", extra={"rotated_client_id": client_id, "grace_seconds": grace_seconds})
    return RotatedSecret(client_id=client_id, client_secret=value, expires_at=new_expiry, previous_expire_at=previous_expire_at)


def set_client_expiry(client_id: str, lifetime_seconds: int | None) -> Client:
    """`lifetime_seconds` from now on, the client gets no token (invalid_client); None: never. Tokens
    it holds run out as they would."""
    client = find_client(client_id)
    client.expires_at = None if lifetime_seconds is None else _from_now(lifetime_seconds, utcnow())
    db.session.commit()
    _forget(client_id)
    logger.info("client_expiry_set", extra={"expiring_client_id": client_id, "expires_at": client.expires_at})
    return client


def _from_now(seconds: int, now: datetime) -> datetime:
    if not 0 <= seconds <= MAX_LIFETIME_SECONDS:
        raise ClientSpecError(f"An expiry must lie between now and {MAX_LIFETIME_SECONDS // 86400} days from now.")
    return now + timedelta(seconds=seconds)


def _confidential(client_id: str) -> Client:
    client = find_client(client_id)
    if client.is_public:
        raise ClientSpecError(f"{client_id} is a public client: it has no secret to rotate.")
    return client


def _forget(client_id: str) -> None:
    """This process drops its copy of the client at once (the CLI's app keeps none)."""
    found = shared_services.of()
    if isinstance(found, AuthServices):
        found.recent_clients.discard(client_id)
