"""ES256 signing keys: create, rotate, and publish current and retired keys as a JWKS (RFC 7517)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from joserfc.jwk import ECKey
from sqlalchemy import or_, select

from authserver.models import SigningKey
from shared.cache import RefreshingCache
from shared.db import db, utcnow

ALGORITHM = "ES256"
CURVE = "P-256"
# Keys are read from the database at most this often per process, so a rotation made by
# `drawbridge keys rotate` is signing tokens everywhere within this many seconds.
KEY_CACHE_SECONDS = 30


class NoSigningKeyError(RuntimeError):
    """The database holds no active signing key: run `drawbridge keys rotate`."""


def rotate() -> SigningKey:
    """Create a new active key and retire the current one (it stays in the JWKS for a while)."""
    now = utcnow()
    for key in db.session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None))):
        key.retired_at = now
    jwk = ECKey.generate_key(CURVE, auto_kid=True)
    key = SigningKey(kid=jwk.kid, private_jwk=json.dumps(jwk.as_dict(private=True)), created_at=now)
    db.session.add(key)
    db.session.commit()
    _cache().clear()
    return key


def ensure() -> SigningKey | None:
    """Create a key if there is none; return the new key, or None if one existed."""
    if db.session.scalar(select(SigningKey.id).where(SigningKey.retired_at.is_(None)).limit(1)):
        return None
    return rotate()


@dataclass(frozen=True)
class _Loaded:
    signing_key: ECKey | None
    jwks: dict[str, Any]


def _load(published_for_seconds: int) -> _Loaded:
    # A retired key stays published until every token it signed has expired.
    cutoff = utcnow() - timedelta(seconds=published_for_seconds)
    rows = db.session.scalars(
        select(SigningKey)
        .where(or_(SigningKey.retired_at.is_(None), SigningKey.retired_at > cutoff))
        .order_by(SigningKey.created_at.desc())
    ).all()
    keys = [ECKey.import_key(json.loads(row.private_jwk)) for row in rows]
    active = next((k for k, row in zip(keys, rows, strict=True) if row.retired_at is None), None)
    public = [{**k.as_dict(private=False), "use": "sig", "alg": ALGORITHM} for k in keys]
    return _Loaded(signing_key=active, jwks={"keys": public})


def _cache() -> RefreshingCache[int, _Loaded]:
    """This app's copy of the active key and the JWKS, by how long retired keys stay published (one
    cache per app, so two apps on two databases never share keys)."""
    cache = current_app.extensions.get("drawbridge.keys")
    if cache is None:
        cache = current_app.extensions["drawbridge.keys"] = RefreshingCache(_load, KEY_CACHE_SECONDS)
    return cache


def _loaded(token_ttl_seconds: int) -> _Loaded:
    return _cache().get(token_ttl_seconds + KEY_CACHE_SECONDS)  # type: ignore[return-value]  # _load never finds nothing


def signing_key(token_ttl_seconds: int) -> ECKey:
    """The active private key; raises NoSigningKeyError if there is none."""
    key = _loaded(token_ttl_seconds).signing_key
    if key is None:
        raise NoSigningKeyError("no active signing key; run `drawbridge keys rotate`")
    return key


def public_jwks(token_ttl_seconds: int) -> dict[str, Any]:
    """The JWKS document: the active key and every retired key whose tokens may still be alive."""
    return _loaded(token_ttl_seconds).jwks
