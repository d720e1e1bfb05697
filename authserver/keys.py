"""ES256 signing keys: create, rotate (by hand or once the active key is old enough), encrypt at
rest, list, and publish current and retired keys as a JWKS (RFC 7517)."""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from joserfc.jwk import ECKey
from sqlalchemy import CursorResult, or_, select, update

from authserver.key_encryption import KeyDecryptionError, Keyring, is_clear
from authserver.models import SigningKey
from authserver.services import AuthServices
from shared import services as shared_services
from shared.app import current_settings
from shared.cache import RefreshingCache
from shared.db import db, utcnow

logger = logging.getLogger(__name__)

ALGORITHM = "ES256"
CURVE = "P-256"
# Each process keeps its copy of the keys at most this long. A rotation reaches every worker sooner,
# within the key watcher's poll (key_watcher.py); this bounds it where no watcher runs.
KEY_CACHE_SECONDS = 30
# An unknown kid reads the keys again at once, but at most this often: anyone may send one.
KEY_RELOAD_MIN_SECONDS = 5


class NoSigningKeyError(RuntimeError):
    """The database holds no active signing key this process can use: run `drawbridge keys ensure`."""


class RewrapError(Exception):
    """Some stored keys cannot be rewrapped; nothing was changed."""


@dataclass(eq=False)
class KeyState:
    """One app's key-encryption keys, the signing keys it decrypted (once per process: the token
    path never decrypts), and its copy of the active key and the JWKS, by how long retired keys stay
    published (one per app, so two apps on two databases never share keys)."""

    keyring: Keyring
    decrypted: dict[tuple[str, str], ECKey] = field(default_factory=dict)
    cache: RefreshingCache[int, _Loaded] = field(default_factory=lambda: RefreshingCache(_load, KEY_CACHE_SECONDS))
    reloaded_at: float = -math.inf


def rotate() -> SigningKey:
    """Create a new active key and retire the current one (it stays in the JWKS for a while)."""
    key = _replace_active()
    if key is None:  # only a rotation by age may replace nothing
        raise RuntimeError("a rotation replaced nothing")
    return key


def rotate_if_older_than(age: timedelta) -> SigningKey | None:
    """Rotate when the active key was created `age` ago or earlier; the new key, or None. Of several
    workers asking at once, one rotates: the others find no key that old left to retire."""
    return _replace_active(SigningKey.created_at <= utcnow() - age, only_if_any=True)


def _replace_active(*retiring: Any, only_if_any: bool = False) -> SigningKey | None:
    """Retire the active keys that match `retiring` (all of them by default) and add a new active
    one, in one transaction; with `only_if_any`, nothing when no key matched."""
    state = _state()  # first: without a key-encryption key, change nothing
    now = utcnow()
    retired: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]  # an UPDATE's result
        update(SigningKey).where(SigningKey.retired_at.is_(None), *retiring).values(retired_at=now)
    )
    if only_if_any and retired.rowcount == 0:
        db.session.rollback()
        return None
    jwk = ECKey.generate_key(CURVE, auto_kid=True)
    kid = jwk.kid
    if kid is None:  # auto_kid sets it (the RFC 7638 thumbprint)
        raise RuntimeError("joserfc generated a key without a kid")
    stored = state.keyring.encrypt(kid, json.dumps(jwk.as_dict(private=True)))
    key = SigningKey(kid=kid, private_jwk=stored, created_at=now)
    db.session.add(key)
    db.session.commit()
    state.cache.clear()
    return key


def ensure() -> SigningKey | None:
    """Create a key if no active one can be used; return the new key, or None if one could.

    An active key that does not decrypt (kept in clear by a version before encryption at rest, or
    under a key-encryption key this process lacks) is retired by the new one, never trusted: run
    `drawbridge keys rewrap --encrypt-clear` first to keep signing with a key kept in clear."""
    active = db.session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None))).all()
    if any(_decrypted(row) is not None for row in active):
        return None
    if active:
        logger.warning("signing_keys_replaced", extra={"unreadable_kids": [row.kid for row in active]})
    return rotate()


@dataclass(frozen=True)
class Rewrapped:
    """What `rewrap` did: keys moved to the current KEK, clear keys encrypted, keys already current."""

    moved: int
    encrypted: int
    current: int


def rewrap(encrypt_clear: bool = False) -> Rewrapped:
    """Re-encrypt every stored key under the first KEK, all or nothing. Keys in clear (from a version
    before encryption at rest) are encrypted only when asked: one planted by someone who can write
    the table must not become trusted by a routine run."""
    state = _state()
    keyring = state.keyring
    rows = db.session.scalars(select(SigningKey).order_by(SigningKey.id).with_for_update()).all()
    moved = encrypted = current = 0
    refused = []
    for row in rows:
        if keyring.is_current(row.private_jwk):
            current += 1
        elif is_clear(row.private_jwk) and encrypt_clear:
            row.private_jwk = keyring.encrypt(row.kid, row.private_jwk)
            encrypted += 1
        else:
            try:
                row.private_jwk = keyring.encrypt(row.kid, keyring.decrypt(row.kid, row.private_jwk))
            except KeyDecryptionError as error:
                refused.append(str(error))
                continue
            moved += 1
    if refused:
        db.session.rollback()
        raise RewrapError("; ".join(refused))
    db.session.commit()
    state.cache.clear()
    return Rewrapped(moved=moved, encrypted=encrypted, current=current)


@dataclass(frozen=True)
class _Loaded:
    signing_key: ECKey | None
    jwks: dict[str, Any]
    by_kid: dict[str, ECKey]


def _load(published_for_seconds: int) -> _Loaded:
    # A retired key stays published until every token it signed has expired.
    cutoff = utcnow() - timedelta(seconds=published_for_seconds)
    rows = db.session.scalars(
        select(SigningKey)
        .where(or_(SigningKey.retired_at.is_(None), SigningKey.retired_at > cutoff))
        .order_by(SigningKey.created_at.desc())
    ).all()
    readable = [(row, key) for row in rows if (key := _decrypted(row)) is not None]
    active = next((key for row, key in readable if row.retired_at is None), None)
    public = [{**key.as_dict(private=False), "use": "sig", "alg": ALGORITHM} for _, key in readable]
    return _Loaded(signing_key=active, jwks={"keys": public}, by_kid={row.kid: key for row, key in readable})


def _decrypted(row: SigningKey) -> ECKey | None:
    """The row's key, decrypted once per process (the cache reloads rows every KEY_CACHE_SECONDS;
    the token path never decrypts). A row that does not decrypt is neither used nor published:
    whoever can write the table but lacks the KEK cannot plant a key of their own."""
    state = _state()
    found = state.decrypted.get((row.kid, row.private_jwk))
    if found is None:
        try:
            found = ECKey.import_key(json.loads(state.keyring.decrypt(row.kid, row.private_jwk)))
        except KeyDecryptionError as error:
            logger.error("signing_key_unreadable", extra={"kid": row.kid, "reason": str(error)})
            return None
        state.decrypted[(row.kid, row.private_jwk)] = found
    return found


def _state() -> KeyState:
    """The authorization server's key state; a CLI command's app keeps none, so each call there
    reads the key-encryption keys from the settings afresh."""
    found = shared_services.of()
    if isinstance(found, AuthServices):
        return found.keys
    return KeyState(Keyring.from_settings(current_settings()))


def _published_for(token_ttl_seconds: int) -> int:
    """How long a retired key stays published: until the last token it signed has expired, and a
    worker that had not yet read the rotation may have signed one up to KEY_CACHE_SECONDS later."""
    return token_ttl_seconds + KEY_CACHE_SECONDS


def _loaded(token_ttl_seconds: int) -> _Loaded:
    return _state().cache.get(_published_for(token_ttl_seconds))  # type: ignore[return-value]  # _load never finds nothing


def signing_key(token_ttl_seconds: int) -> ECKey:
    """The active private key; raises NoSigningKeyError if there is none."""
    key = _loaded(token_ttl_seconds).signing_key
    if key is None:
        raise NoSigningKeyError("no active signing key; run `drawbridge keys ensure`")
    return key


def published_key(kid: str, token_ttl_seconds: int) -> ECKey | None:
    """The key of that `kid` if the JWKS publishes it: what every token we signed that may still be
    alive was signed with (revocation and introspection check our tokens with it). An unknown kid
    reads the keys again at once, since another process may have rotated in a key this one has not
    read yet, at most every KEY_RELOAD_MIN_SECONDS (a public client may send any kid to /revoke)."""
    key = _loaded(token_ttl_seconds).by_kid.get(kid)
    state = _state()
    if key is None and time.monotonic() - state.reloaded_at >= KEY_RELOAD_MIN_SECONDS:
        state.reloaded_at = time.monotonic()
        state.cache.discard(token_ttl_seconds + KEY_CACHE_SECONDS)
        key = _loaded(token_ttl_seconds).by_kid.get(kid)
    return key


def public_jwks(token_ttl_seconds: int) -> dict[str, Any]:
    """The JWKS document: the active key and every retired key whose tokens may still be alive. Read
    from the database each time, not from this process's copy: a resource server that sees a token
    under a new key fetches this at once, possibly from a worker that has not yet read the rotation."""
    return _load(_published_for(token_ttl_seconds)).jwks


@dataclass(frozen=True)
class KeySummary:
    """What `keys list` shows of a key; never its private part."""

    kid: str
    # active: signs new tokens; retired: published until its tokens have expired; expired: no
    # longer published; unreadable: does not decrypt with this process's key-encryption keys.
    state: Literal["active", "retired", "expired", "unreadable"]
    created_at: datetime
    retired_at: datetime | None
    published_until: datetime | None


def summaries(token_ttl_seconds: int) -> list[KeySummary]:
    """Every stored key, newest first."""
    window = timedelta(seconds=_published_for(token_ttl_seconds))
    now = utcnow()
    listed = []
    for row in db.session.scalars(select(SigningKey).order_by(SigningKey.created_at.desc(), SigningKey.id.desc())):
        until = row.retired_at + window if row.retired_at is not None else None
        state: Literal["active", "retired", "expired", "unreadable"]
        if _decrypted(row) is None:
            state = "unreadable"
        elif until is None:
            state = "active"
        else:
            state = "retired" if until > now else "expired"
        listed.append(KeySummary(row.kid, state, row.created_at, row.retired_at, until))
    return listed
