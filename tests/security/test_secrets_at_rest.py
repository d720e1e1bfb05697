"""Secrets at rest: signing keys encrypted under a key-encryption key, and a database role for the MCP
server that cannot read keys, people or client secrets."""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from flask import Flask
from joserfc.jwk import ECKey
from sqlalchemy import select, text

import authserver
from authserver import key_encryption, keys
from authserver.models import SigningKey
from authserver.services import services
from mcp_resource.demo.seed import seed
from shared.cli import cli, create_cli_app
from shared.db import db, utcnow
from tests import live
from tests.conftest import migrate
from tests.factories import make_client, sign, valid_claims
from tests.mcp_http import rpc

DEPLOY_SQL = Path(__file__).resolve().parents[2] / "deploy" / "postgres"


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
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]


def published_kids(app: Flask) -> list[str]:
    return [k["kid"] for k in app.test_client().get("/jwks").json["keys"]]


def plant(kid: str, stored: str) -> None:
    """What someone with write access to signing_keys (but no KEK) does: a newer active key."""
    db.session.add(SigningKey(kid=kid, private_jwk=stored, created_at=utcnow() + timedelta(seconds=1)))
    db.session.commit()
    services().keys.cache.clear()


def test_private_keys_are_not_stored_in_clear(app_with):
    """Issue #18: "Private keys sit in clear in `signing_keys`, readable with the MCP server's own
    database URL (the review minted accepted tokens with them)." OWASP ASVS 4.0.3 V6.4.2: "key
    material is not exposed to the application". The table holds neither the private scalar d nor
    anything that parses as a JWK."""
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


def test_a_tampered_key_is_refused_until_keys_ensure_replaces_it(app_with):
    """NIST SP 800-38D section 5.2.2: if the tag does not verify, "return FAIL" and no plaintext.
    A stored key altered by one character is not used: /token answers RFC 6749 section 4.1.2.1's
    `temporarily_unavailable` (503, Retry-After) without internals, /jwks no longer publishes it, and
    `drawbridge keys ensure` (run by `make run` and compose's migrate step) puts a new key in its place."""
    app = app_with(new_kek())
    with app.app_context():
        key = keys.rotate()
        tampered_kid = key.kid
        last = key.private_jwk[-1]
        key.private_jwk = key.private_jwk[:-1] + ("A" if last != "A" else "B")
        db.session.commit()
        services().keys.cache.clear()

        refused = issue_token(app)
        published_while_refused = published_kids(app)
        replacement = keys.ensure()
        replacement_kid = replacement.kid if replacement else None
        issued = issue_token(app)

    assert (refused.status_code, refused.json["error"]) == (503, "temporarily_unavailable")
    assert refused.headers["Retry-After"].isdigit()
    assert "kid" not in refused.get_data(as_text=True)
    assert published_while_refused == []
    assert replacement_kid not in (None, tampered_kid)
    assert issued.status_code == 200
    assert kid_of(issued.json["access_token"]) == replacement_kid


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
        services().keys.cache.clear()
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


@dataclass(frozen=True)
class Roles:
    owner_url: str
    mcp_url: str
    mcp: str


def psql(url: str, script: Path, **variables: str) -> None:
    """Run one of deploy/postgres's scripts exactly as docker-compose does: psql with variables."""
    command = ["psql", "--no-psqlrc", "--quiet", "-d", url, "-f", str(script)]
    for name, value in variables.items():
        command += ["-v", f"{name}={value}"]
    subprocess.run(command, check=True, capture_output=True, timeout=60)


def as_role(url: str, role: str, password: str) -> str:
    parts = urlsplit(url)
    netloc = f"{role}:{password}@{parts.hostname}:{parts.port or 5432}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


@pytest.fixture
def database_roles(settings, create_database, services) -> Iterator[Roles]:
    """A fresh database set up as docker-compose does: database_roles.sql as a superuser, the
    migrations as the owner, mcp_grants.sql as the owner. Roles are cluster-wide, so their names
    are this run's own, and they are dropped with the database afterwards."""
    suffix = secrets.token_hex(4)
    owner, mcp = f"drawbridge_owner_{suffix}", f"drawbridge_mcp_{suffix}"
    owner_password, mcp_password = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    superuser_url = create_database("roles")
    psql(superuser_url, DEPLOY_SQL / "database_roles.sql", owner=owner, owner_password=owner_password, mcp=mcp, mcp_password=mcp_password)
    roles = Roles(owner_url=as_role(superuser_url, owner, owner_password), mcp_url=as_role(superuser_url, mcp, mcp_password), mcp=mcp)
    app = migrate(replace(settings, database_url=roles.owner_url))
    with app.app_context():
        seed()
        db.engine.dispose()
    psql(roles.owner_url, DEPLOY_SQL / "mcp_grants.sql", mcp=mcp)
    yield roles
    with psycopg.connect(services.database_server_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{urlsplit(superuser_url).path[1:]}" WITH (FORCE)')
        admin.execute(f'DROP ROLE IF EXISTS "{mcp}"')
        admin.execute(f'DROP ROLE IF EXISTS "{owner}"')


@pytest.mark.parametrize(
    "query",
    [
        "SELECT private_jwk FROM signing_keys",
        "SELECT password_hash FROM users",
        "SELECT secret_hash FROM client_secrets",
        "SELECT registration_token_hash FROM oauth_clients",
        "SELECT * FROM oauth_clients",
        "SELECT code_hash FROM authorization_codes",
        "SELECT token_hash FROM refresh_tokens",
        "SELECT * FROM grants",
        "SELECT * FROM consents",
        "UPDATE signing_keys SET retired_at = NULL",
        "INSERT INTO revocations VALUES ('token:x', 0)",
        "UPDATE tool_states SET enabled = true",
        "CREATE TABLE planted (id int)",
    ],
)
def test_the_mcp_role_cannot_read_keys_people_or_secrets(database_roles, query):
    """Issue #18: "make the deployment give the MCP server a database role that cannot read
    `signing_keys`, `users` or secrets". With deploy/postgres's scripts applied as docker-compose
    applies them, each of these answers PostgreSQL's insufficient_privilege (42501) to the MCP role."""
    with psycopg.connect(database_roles.mcp_url) as connection, pytest.raises(psycopg.errors.InsufficientPrivilege):
        connection.execute(query)


def test_a_table_added_later_is_closed_to_the_mcp_role(database_roles):
    """Least privilege by default: a table a later migration adds (say, for secrets) is not
    readable by the MCP role until mcp_grants.sql names it, even after that file is run again."""
    with psycopg.connect(database_roles.owner_url, autocommit=True) as owner:
        owner.execute("CREATE TABLE webhook_secrets (id serial PRIMARY KEY, secret text)")
        owner.execute("INSERT INTO webhook_secrets (secret) VALUES ('s3cr3t')")
    psql(database_roles.owner_url, DEPLOY_SQL / "mcp_grants.sql", mcp=database_roles.mcp)

    with psycopg.connect(database_roles.mcp_url) as connection, pytest.raises(psycopg.errors.InsufficientPrivilege):
        connection.execute("SELECT secret FROM webhook_secrets")


@pytest.mark.usefixtures("live_services")
def test_the_mcp_server_works_with_its_own_role(database_roles, settings, auth_context, tmp_path):
    """The MCP server started with the MCP role's DATABASE_URL serves the MCP 2026-07-28 tools/list
    and tools/call (rate-limit policy from oauth_clients, tool switches, demo tables) and writes its
    audit row; the job worker's table is open to it as well."""
    port = live.free_port()
    resource_url = f"http://127.0.0.1:{port}/mcp"
    env = {
        "DATABASE_URL": database_roles.mcp_url,
        "REDIS_URL": settings.redis_url or "",
        "DRAWBRIDGE_ISSUER": settings.issuer,
        "DRAWBRIDGE_RESOURCE_URL": resource_url,
        "DRAWBRIDGE_JWKS_URL": settings.jwks_url,
    }
    server = live.start("mcp_resource:create_app()", "deploy/gunicorn_mcp.py", port, env, tmp_path / "mcp_resource.log")
    try:
        token = sign(valid_claims(settings, aud=resource_url, scope="posts:read posts:write"))
        listed = rpc(resource_url, token, "tools/list")
        created = rpc(resource_url, token, "tools/call", {"name": "create_post", "arguments": {"title": "Roles", "body": "Least privilege."}})
        posts = rpc(resource_url, token, "tools/call", {"name": "list_posts", "arguments": {}})
    finally:
        server.stop()

    assert listed.status_code == 200
    assert "list_posts" in [tool["name"] for tool in listed.json()["result"]["tools"]]
    assert created.status_code == 200 and not created.json()["result"]["isError"], created.text
    assert "Roles" in created.text
    assert posts.status_code == 200 and not posts.json()["result"]["isError"], posts.text
    with psycopg.connect(database_roles.owner_url) as owner:
        audited = owner.execute("SELECT tool, outcome FROM audit_records ORDER BY id").fetchall()
    assert [tool for tool, _ in audited] == ["create_post", "list_posts"]
    with psycopg.connect(database_roles.mcp_url) as mcp:
        mcp.execute(
            "INSERT INTO jobs (id, client_id, subject, tool, arguments, status, progress, cancel_requested, created_at, updated_at)"
            " VALUES ('job-1', 'c', 's', 'sales_report', '{}', 'working', 0, false, now(), now())"
        )
        mcp.execute("UPDATE jobs SET status = 'completed' WHERE id = 'job-1'")
