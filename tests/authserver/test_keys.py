"""Signing keys: rotation publishes the new key, keeps the retired one while its tokens live."""

from __future__ import annotations

from datetime import timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

import authserver
from authserver import keys
from authserver.key_watcher import KeyWatcher
from authserver.models import SigningKey
from authserver.services import services
from shared import cache
from shared.app import current_settings
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


def another_worker(app):
    """A second authorization server app on the same database: another worker or process."""
    return authserver.create_app(current_settings())


def test_the_jwks_names_a_key_rotated_in_elsewhere_at_once(fresh_auth_app):
    """A resource server that meets a token under a new key fetches the JWKS at once, maybe from a
    worker that has not read the rotation yet: the JWKS must already name the new key."""
    keys.rotate()
    published_kids(fresh_auth_app)  # this worker has read its keys

    with another_worker(fresh_auth_app).app_context():
        new = keys.rotate().kid

    assert published_kids(fresh_auth_app)[0] == new


def test_a_rotation_elsewhere_signs_here_at_the_watchers_next_look(fresh_auth_app):
    keys.rotate()
    watcher = services().key_watcher
    watcher.check()
    old = keys.signing_key(600).kid

    with another_worker(fresh_auth_app).app_context():
        new = keys.rotate().kid
    still = keys.signing_key(600).kid
    watcher.check()

    assert still == old  # this worker's copy, until it looks
    assert keys.signing_key(600).kid == new


def test_automatic_rotation_replaces_an_old_key_once_whichever_workers_look(fresh_auth_app):
    old = keys.rotate()
    db.session.get(SigningKey, old.id).created_at = utcnow() - timedelta(days=2)
    db.session.commit()
    other = another_worker(fresh_auth_app)
    watchers = [KeyWatcher(fresh_auth_app, services().keys, timedelta(days=1)), KeyWatcher(other, services(other).keys, timedelta(days=1))]

    for watcher in watchers + watchers:
        watcher.check()

    states = {k.kid: k.state for k in keys.summaries(600)}
    assert states.pop(old.kid) == "retired"
    assert list(states.values()) == ["active"]
    assert keys.signing_key(600).kid == next(iter(states))


def test_no_automatic_rotation_before_the_key_is_old_enough(fresh_auth_app):
    key = keys.rotate()

    KeyWatcher(fresh_auth_app, services().keys, timedelta(days=1)).check()

    assert [(k.kid, k.state) for k in keys.summaries(600)] == [(key.kid, "active")]


def test_the_listing_tells_active_retired_and_no_longer_published_keys(fresh_auth_app):
    first, second, third = keys.rotate(), keys.rotate(), keys.rotate()
    db.session.get(SigningKey, first.id).retired_at = utcnow() - timedelta(hours=1)
    db.session.commit()

    listed = keys.summaries(600)

    assert [(k.kid, k.state) for k in listed] == [(third.kid, "active"), (second.kid, "retired"), (first.kid, "expired")]
    assert listed[0].published_until is None
    assert listed[1].published_until == listed[1].retired_at + timedelta(seconds=600 + keys.KEY_CACHE_SECONDS)
