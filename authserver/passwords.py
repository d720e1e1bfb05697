"""argon2 password hashes, with a miss costing what a wrong password costs."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when the account does not exist, so a miss costs what a wrong password costs.
_DUMMY_HASH = _hasher.hash("drawbridge-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(password: str, stored_hash: str | None) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False
