"""argon2 password hashes, and the throttle on failed logins per account and per IP."""

from __future__ import annotations

import hashlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from authserver.throttle import Counter

_hasher = PasswordHasher()
# Verified against when the account does not exist, so a miss costs what a wrong password costs.
_DUMMY_HASH = _hasher.hash("drawbridge-timing-equaliser")

FAILURE_WINDOW_SECONDS = 15 * 60
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_IP = 30


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(password: str, stored_hash: str | None) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


class LoginThrottle:
    """Refuses logins for an account or an IP after too many recent failures."""

    def __init__(self, counter: Counter) -> None:
        self.counter = counter

    @staticmethod
    def _keys(email: str, ip: str) -> tuple[str, str]:
        account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        return f"login:account:{account}", f"login:ip:{ip}"

    def blocked(self, email: str, ip: str) -> bool:
        account, address = self._keys(email, ip)
        return (
            self.counter.count(account) >= MAX_FAILURES_PER_ACCOUNT
            or self.counter.count(address) >= MAX_FAILURES_PER_IP
        )

    def failed(self, email: str, ip: str) -> None:
        for key in self._keys(email, ip):
            self.counter.hit(key, FAILURE_WINDOW_SECONDS)

    def succeeded(self, email: str, ip: str) -> None:
        self.counter.reset(self._keys(email, ip)[0])
