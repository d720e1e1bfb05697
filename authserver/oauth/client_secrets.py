"""Client secrets: random 256-bit values stored as SHA-256 hashes (RFC 6749 section 2.3.1).

A SHA-256 hash is safe here because the secret is random, not a password, and it keeps the
token endpoint fast: no password hashing on that path. A client holds several while a rotation's
grace runs (secret_rotation.py). Which one authenticated a request through Authlib's client
authentication is remembered for that request, so its last use can be noted (clients.mark_used).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from typing import TYPE_CHECKING

from flask import g

if TYPE_CHECKING:  # models.py imports this module
    from authserver.models import ClientSecret

SECRET_BYTES = 32


def generate() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def matching(secret: str, stored: Iterable[ClientSecret]) -> ClientSecret | None:
    """The stored secret whose hash `secret` has, or None. Every hash is compared, each in constant
    time, so the time taken tells nothing of how much of one matched, nor which."""
    presented = hash_secret(secret)
    found = None
    for candidate in stored:
        if hmac.compare_digest(presented, candidate.secret_hash):
            found = candidate
    return found


def remember(secret: ClientSecret) -> None:
    """Note that `secret` authenticated the request being served (flask.g: one request's, never
    shared, unlike the token endpoint's copies of clients)."""
    g.authenticating_secret = secret


def authenticating(client_id: str) -> ClientSecret | None:
    """The secret of `client_id` that authenticated this request, if one did; asked once."""
    secret: ClientSecret | None = g.pop("authenticating_secret", None)
    return secret if secret is not None and secret.client_id == client_id else None
