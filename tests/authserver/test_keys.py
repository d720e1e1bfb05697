"""Signing keys: rotation publishes the new key, keeps the retired one while its tokens live."""

from __future__ import annotations

from datetime import timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from authserver import keys
from authserver.models import SigningKey
from authserver.services import services
from shared import cache
from shared.db import db, utcnow
from tests.factories import make_client
from tests.staleness import Clock, arriving_mid_query


def published_kids(app) -> list[str]:
    return [k["kid"] for k in app.test_client().get("/jwks").json["keys"]]


def test_no_key_means_no_token_and_a_clear_error(fresh_auth_app):
    with pytest.raises(keys.NoSigningKeyError, match="drawbridge keys ensure"):
        keys.signing_key(600)


def test_ensure_creates_one_key_only_once(fresh_auth_app):
    assert keys.ensure() is not None
    assert keys.ensure() is None
    assert db.session.query(SigningKey).count() == 1


def test_rotation_signs_with_the_new_key_and_still_publishes_the_old(fresh_auth_app):
    old = keys.rotate()
    new = keys.rotate()

    assert keys.signing_key(600).kid == new.kid
    assert published_kids(fresh_auth_app) == [new.kid, old.kid]


def test_a_token_signed_before_rotation_still_verifies_with_the_published_keys(fresh_auth_app):
    keys.rotate()
    client = make_client()
    http = fresh_auth_app.test_client()
    form = {"grant_type": "client_credentials", "client_id": client.client.client_id, "client_secret": client.client_secret}
    token = http.post("/token", data=form).json["access_token"]

    keys.rotate()

    jwks = KeySet.import_key_set(http.get("/jwks").json)
    assert jwt.decode(token, jwks, algorithms=["ES256"]).claims["client_id"] == client.client.client_id


def test_a_key_retired_longer_than_any_token_lives_is_no_longer_published(fresh_auth_app):
    old = keys.rotate()
    new = keys.rotate()
    db.session.get(SigningKey, old.id).retired_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    services().keys.cache.clear()

    assert published_kids(fresh_auth_app) == [new.kid]


def test_jwks_publishes_public_parts_only(fresh_auth_app):
    keys.rotate()

    (published,) = fresh_auth_app.test_client().get("/jwks").json["keys"]

    assert set(published) == {"kty", "crv", "x", "y", "kid", "use", "alg"}
    assert published["alg"] == "ES256"


def test_stale_keys_are_read_again_by_one_request_while_the_others_keep_signing(fresh_auth_app, monkeypatch):
    """Many token requests in flight when the key copy goes stale must not all query at once."""
    clock = Clock()
    monkeypatch.setattr(cache, "time", clock)
    keys.rotate()
    current = keys.signing_key(600).kid
    clock.now += keys.KEY_CACHE_SECONDS + 1

    with arriving_mid_query(db.engine, lambda: keys.signing_key(600).kid) as seen:
        assert keys.signing_key(600).kid == current

    assert seen.queries == 1
    assert seen.arriving_got == [current]
