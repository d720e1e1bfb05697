"""Failed logins slow down whoever fails (RFC 6749 section 10.10), without locking anyone out.

Failures are counted per account at one client address: guessing a person's password from one
address gets slower with every failure, while the person, at their own address, logs in as
usual. A wider count per address, across accounts, slows one address trying many accounts
(credential stuffing). Neither is a lock a stranger can put on someone else's account.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math

import redis

from authserver import backoff
from authserver.backoff import Backoff, BackoffPolicy

FORGET_AFTER_SECONDS = 24 * 3600
# After five failures in a row at one address the next attempt waits 1 s, then 2 s, 4 s, ... 15 min.
ACCOUNT_AT_ADDRESS = BackoffPolicy(
    free_failures=5, first_wait_seconds=1, max_wait_seconds=15 * 60, forget_after_seconds=FORGET_AFTER_SECONDS
)
# One address may fail 30 times, on any accounts, before its attempts wait in the same way.
ADDRESS = BackoffPolicy(
    free_failures=30, first_wait_seconds=1, max_wait_seconds=15 * 60, forget_after_seconds=FORGET_AFTER_SECONDS
)
# An IPv6 host usually holds a whole /64: counting single addresses would let it start afresh at will.
IPV6_PREFIX_BITS = 64


class LoginThrottle:
    """Decides whether a login attempt may go ahead, and learns from its outcome."""

    def __init__(self, account_at_address: Backoff, address: Backoff) -> None:
        self.account_at_address = account_at_address
        self.address = address

    @classmethod
    def for_client(cls, client: redis.Redis | None) -> LoginThrottle:
        return cls(
            backoff.for_client(client, ACCOUNT_AT_ADDRESS, "login-account"),
            backoff.for_client(client, ADDRESS, "login-address"),
        )

    def admit(self, email: str, client_address: str) -> int:
        """0 to let the attempt go ahead (it is counted), else the whole seconds it must wait."""
        pair, address = _keys(email, client_address)
        if wait := self.address.attempt(address):
            return wait
        if wait := self.account_at_address.attempt(pair):
            self.address.forgive(address)
            return wait
        return 0

    def failed(self, email: str, client_address: str) -> None:
        for throttle, key in zip((self.account_at_address, self.address), _keys(email, client_address), strict=True):
            throttle.failed(key)

    def succeeded(self, email: str, client_address: str) -> None:
        """The person is in: their failures here are forgotten, and the address's count takes this attempt back."""
        pair, address = _keys(email, client_address)
        self.account_at_address.clear(pair)
        self.address.forgive(address)


def retry_message(wait_seconds: int) -> str:
    """What the login page tells a person who must wait."""
    if wait_seconds < 120:
        return f"Too many failed attempts. Try again in {wait_seconds} second{'s' if wait_seconds != 1 else ''}."
    return f"Too many failed attempts. Try again in {math.ceil(wait_seconds / 60)} minutes."


def _keys(email: str, client_address: str) -> tuple[str, str]:
    """(account at address, address): the email only as a hash, never in clear."""
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    address = _address_key(client_address)
    return f"{account}:{address}", address


def _address_key(client_address: str) -> str:
    try:
        ip = ipaddress.ip_address(client_address)
    except ValueError:
        return client_address
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/{IPV6_PREFIX_BITS}", strict=False))
    return str(ip)
