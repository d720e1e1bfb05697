"""Secrets at rest: signing keys encrypted under a key-encryption key, and a database role for the MCP
server that cannot read keys, people or client secrets."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from flask import Flask
from joserfc.jwk import ECKey
from sqlalchemy import select, text

import authserver
from authserver import key_encryption, keys
from authserver.models import SigningKey
from shared.cli import cli, create_cli_app
from shared.db import db, utcnow
from tests.conftest import migrate
from tests.factories import make_client


@pytest.fixture
def app_with(settings, create_database) -> Iterator[Callable[..., Flask]]:
    """Authorization servers on one empty, migrated database of this test's own, each holding the
    key-encryption keys it is given (their connections are closed after the test)."""
    own = replace(settings, database_url=create_database("keys"))
    migrate(own)
    apps: list[Flask] = []

    def app_with(*key_encryption_keys: bytes) -> Flask:
        apps.append(authserver.create_app(replace(own, key_encryption_keys=key_encryption_keys)))
        return apps[-1]

    yield app_with
    for app in apps:
        with app.app_context():
            db.engine.dispose()


def new_kek() -> bytes:
    return secrets.token_bytes(32)


def stored_keys() -> dict[str, str]:
    """What anyone who can read the table sees: kid -> the stored private key column."""
    return dict(db.session.execute(text("SELECT kid, private_jwk FROM signing_keys")).all())


def issue_token(app: Flask):
    client = make_client()
    form = {"grant_type": "client_credentials", "client_id": client.client.client_id, "client_secret": client.client_secret}
    return app.test_client().post("/token", data=form)


def kid_of(token: str) -> str:
    header = token.split(".", 1)[0]
    return json.loads(key_encryption._unb64(header))["kid"]


def published_kids(app: Flask) -> list[str]:
    return [k["kid"] for k in app.test_client().get("/jwks").json["keys"]]


def plant(kid: str, stored: str) -> None:
    """What someone with write access to signing_keys (but no KEK) does: a newer active key."""
    db.session.add(SigningKey(kid=kid, private_jwk=stored, created_at=utcnow() + timedelta(seconds=1)))
    db.session.commit()
    keys._cache().clear()


def test_private_keys_are_not_stored_in_clear(app_with):
    """Issue #18: "Private keys sit in clear in `signing_keys`, readable with the MCP server's own
    database URL (the review minted accepted tokens with them)." OWASP ASVS 4.0.3 V6.4.2: "key
    material is not exposed to the application" / V6.2.1 cryptographic modules fail securely. The
    table holds neither the private scalar d nor anything that parses as a JWK."""
    with app_with(new_kek()).app_context():
        keys.rotate()
        private = keys.signing_key(600).as_dict(private=True)

        ((kid, stored),) = stored_keys().items()

    assert kid == private["kid"]
    assert private["d"] not in stored
    with pytest.raises(json.JSONDecodeError):
        json.loads(stored)


@pytest.mark.parametrize("how", ["in-clear", "under-another-kek", "ciphertext-of-another-kid"])
def test_a_key_planted_in_the_table_neither_signs_nor_is_published(app_with, how):
    """RFC 9068 section 4: resource servers "MUST validate the signature of all incoming JWT access
    tokens"; that is worth something only if no one but the authorization server can choose the key.
    A row written without the KEK (in clear as older versions stored keys, under a KEK of the
    attacker's, or a genuine ciphertext moved to another kid, which AES-GCM's associated data binds)
    is refused: /token still signs with the genuine key and /jwks does not publish the planted one."""
    app = app_with(new_kek())
    with app.app_context():
        genuine = keys.rotate()
        attacker = ECKey.generate_key("P-256", auto_kid=True)
        clear = json.dumps(attacker.as_dict(private=True))
        if how == "in-clear":
            plant(attacker.kid, clear)
        elif how == "under-another-kek":
            plant(attacker.kid, key_encryption.Keyring((new_kek(),)).encrypt(attacker.kid, clear))
        else:
            plant(attacker.kid, genuine.private_jwk)

        response = issue_token(app)

        assert response.status_code == 200
        assert kid_of(response.json["access_token"]) == genuine.kid
        assert published_kids(app) == [genuine.kid]


def test_a_tampered_key_is_refused_and_the_token_endpoint_says_server_error(app_with):
    """NIST SP 800-38D section 5.2.2: if the tag does not verify, "return FAIL" and no plaintext.
    A stored key altered by one character is not used: /token answers RFC 6749 section 5.2's
    `server_error` without internals, and /jwks no longer publishes it."""
    app = app_with(new_kek())
    with app.app_context():
        key = keys.rotate()
        last = key.private_jwk[-1]
        key.private_jwk = key.private_jwk[:-1] + ("A" if last != "A" else "B")
        db.session.commit()
        keys._cache().clear()

        response = issue_token(app)

        assert response.status_code == 500
        assert response.json["error"] == "server_error"
        assert response.json["error_description"].startswith("Internal error, reference")
        assert published_kids(app) == []


def test_the_key_encryption_key_changes_without_downtime(app_with):
    """Issue #18: the KEK is "rotatable with a CLI command". With DRAWBRIDGE_KEY_ENCRYPTION_KEYS set to
    "new old" every process reads keys under either while `drawbridge keys rewrap` moves them to the
    new one; after it, the new KEK alone signs and publishes every key. A key left in clear by an older
    version is encrypted only with --encrypt-clear, and until then nothing changes."""
    old, new = new_kek(), new_kek()
    with app_with(old).app_context():
        retired = keys.rotate().kid
        current = keys.rotate().kid
    legacy = ECKey.generate_key("P-256", auto_kid=True)
    both = app_with(new, old)
    with both.app_context():
        plant(legacy.kid, json.dumps(legacy.as_dict(private=True)))
        db.session.get(SigningKey, db.session.scalar(select(SigningKey.id).where(SigningKey.kid == legacy.kid))).retired_at = utcnow()
        db.session.commit()
        keys._cache().clear()
        assert kid_of(issue_token(both).json["access_token"]) == current  # mid-rollout: old KEK still read

        runner = create_cli_app(both.config["SETTINGS"]).test_cli_runner()
        refused = runner.invoke(cli, ["keys", "rewrap"])
        unchanged = stored_keys()
        done = runner.invoke(cli, ["keys", "rewrap", "--encrypt-clear"])

    assert refused.exit_code == 1
    assert f"signing key {legacy.kid} is not encrypted" in refused.output
    assert done.exit_code == 0, done.output
    assert "Re-encrypted 2 keys, encrypted 1 stored in clear" in done.output
    only_new = app_with(new)
    with only_new.app_context():
        assert unchanged[legacy.kid].startswith("{")
        assert all(stored.startswith(f"v1.{key_encryption.kek_id(new)}.") for stored in stored_keys().values())
        assert kid_of(issue_token(only_new).json["access_token"]) == current
        assert sorted(published_kids(only_new)) == sorted([current, retired, legacy.kid])
    assert published_kids(app_with(old)) == []  # the old KEK opens nothing any more
