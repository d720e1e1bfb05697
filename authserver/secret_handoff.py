"""A new client secret carried from the developer portal's form to the one page that shows it
(post, redirect, get: a reload never registers or rotates again), in the person's session cookie,
encrypted: AES-256-GCM (NIST SP 800-38D) under a key HKDF (RFC 5869) derives from the app's secret
key, bound to the person and the client. The page that shows it takes it out, so it is shown once;
nothing keeps it on the server, where only its hash is stored."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app, session

SESSION_KEY = "new_client_secret"
NONCE_BYTES = 12  # the size GCM is defined for (SP 800-38D section 5.2.1.1)
PURPOSE = b"drawbridge: a new client secret on its way to the page that shows it"


@dataclass(frozen=True)
class NewSecret:
    """A secret to show this once, and until when the secrets before it keep working (a
    rotation's grace; None: there were none)."""

    value: str
    previous_expire_at: datetime | None = None


def hand_over(user_id: int, client_id: str, secret: NewSecret) -> None:
    """Keep `secret` for the next page of `user_id` showing `client_id`."""
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = _aead().encrypt(nonce, secret.value.encode(), _bound_to(user_id, client_id))
    session[SESSION_KEY] = {
        "client_id": client_id,
        "nonce": _b64(nonce),
        "ciphertext": _b64(ciphertext),
        "previous_expire_at": secret.previous_expire_at.isoformat() if secret.previous_expire_at else None,
    }


def take(user_id: int, client_id: str) -> NewSecret | None:
    """The secret handed over for this page, taken out of the session (None if there is none, or
    it is for another client); a page for another client leaves it there."""
    kept = session.get(SESSION_KEY)
    if not isinstance(kept, dict) or kept.get("client_id") != client_id:
        return None
    session.pop(SESSION_KEY)
    try:
        value = _aead().decrypt(_unb64(kept["nonce"]), _unb64(kept["ciphertext"]), _bound_to(user_id, client_id)).decode()
    except (InvalidTag, KeyError, TypeError, ValueError):
        return None
    ends = kept.get("previous_expire_at")
    return NewSecret(value, datetime.fromisoformat(ends) if ends else None)


def _aead() -> AESGCM:
    secret_key = current_app.secret_key
    material = secret_key.encode() if isinstance(secret_key, str) else bytes(secret_key or b"")
    return AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE).derive(material))


def _bound_to(user_id: int, client_id: str) -> bytes:
    return f"user {user_id} client {client_id}".encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
