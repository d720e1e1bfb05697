"""Signing keys at rest: AES-256-GCM (NIST SP 800-38D) under key-encryption keys from the settings.

A stored key reads `v1.<KEK id>.<nonce>.<ciphertext>` (base64url). The signing key's kid is the
associated data, so a ciphertext moved to another row does not decrypt. The KEK id is a hash prefix
of the KEK, which says which of several configured KEKs to use and reveals nothing of it.
"""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared import secret_strength
from shared.settings import ConfigError, Settings

VERSION = "v1"
NONCE_BYTES = 12  # the size GCM is defined for (SP 800-38D section 5.2.1.1)
KEK_ID_HEX_CHARACTERS = 16


class KeyDecryptionError(Exception):
    """A stored signing key is in clear, damaged, tampered with, or under a KEK we do not hold."""


class Keyring:
    """The key-encryption keys: the first encrypts, any of them decrypts. Listing the new key
    first and the old one second lets every process read both while `drawbridge keys rewrap`
    moves the stored keys over, so changing the KEK needs no downtime."""

    def __init__(self, keys: tuple[bytes, ...]) -> None:
        if not keys:
            raise ValueError("a keyring needs at least one key")
        self._by_id = {kek_id(key): AESGCM(key) for key in keys}
        self.current_id = kek_id(keys[0])

    @classmethod
    def from_settings(cls, settings: Settings) -> Keyring:
        if not settings.key_encryption_keys:
            raise ConfigError([
                "DRAWBRIDGE_KEY_ENCRYPTION_KEYS is missing; the authorization server needs it in production "
                f"to encrypt its signing keys. Generate one with: {secret_strength.GENERATE_COMMAND}"
            ])
        return cls(settings.key_encryption_keys)

    def encrypt(self, kid: str, private_jwk: str) -> str:
        """The stored form of a private JWK, under the current KEK."""
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = self._by_id[self.current_id].encrypt(nonce, private_jwk.encode(), _associated_data(kid))
        return ".".join((VERSION, self.current_id, _b64(nonce), _b64(ciphertext)))

    def decrypt(self, kid: str, stored: str) -> str:
        """The private JWK; raises KeyDecryptionError for anything but our own, untouched ciphertext."""
        parts = stored.split(".")
        if len(parts) != 4 or parts[0] != VERSION:
            raise KeyDecryptionError(f"signing key {kid} is not encrypted; `drawbridge keys rewrap --encrypt-clear` encrypts it")
        _, key_id, nonce, ciphertext = parts
        aead = self._by_id.get(key_id)
        if aead is None:
            raise KeyDecryptionError(f"signing key {kid} is under a key-encryption key not in DRAWBRIDGE_KEY_ENCRYPTION_KEYS")
        try:
            return aead.decrypt(_unb64(nonce), _unb64(ciphertext), _associated_data(kid)).decode()
        except (InvalidTag, ValueError) as error:
            raise KeyDecryptionError(f"signing key {kid} fails authentication: damaged or tampered with") from error

    def is_current(self, stored: str) -> bool:
        """Whether `stored` is already under the current KEK (rewrapping it again changes nothing)."""
        return stored.startswith(f"{VERSION}.{self.current_id}.")


def kek_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:KEK_ID_HEX_CHARACTERS]


def is_clear(stored: str) -> bool:
    """A private JWK stored in clear by a version before encryption at rest."""
    return stored.lstrip().startswith("{")


def _associated_data(kid: str) -> bytes:
    return f"drawbridge signing key {kid}".encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
