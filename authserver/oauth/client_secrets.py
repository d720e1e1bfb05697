"""Client secrets: random 256-bit values stored as SHA-256 hashes (RFC 6749 section 2.3.1).

A SHA-256 hash is safe here because the secret is random, not a password, and it keeps the
token endpoint fast: no password hashing on that path.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_BYTES = 32


def generate() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def verify(secret: str, stored_hash: str | None) -> bool:
    """Compare in constant time; a client without a stored hash never matches."""
    if not stored_hash:
        return False
    return hmac.compare_digest(hash_secret(secret), stored_hash)
