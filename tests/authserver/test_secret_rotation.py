"""`drawbridge clients rotate-secret` and `clients expire` (authserver/secret_rotation.py): a new
secret while the old one works through its grace, expiries, and each secret's last use."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select, update

from authserver import secret_rotation
from authserver.cli.output import readable
from authserver.client_summaries import describe_client
from authserver.clients import SECRET_LAST_USED_RESOLUTION, NewClient
from authserver.cutoffs import CLIENT_CACHE_SECONDS
from authserver.models import Client, ClientSecret
from authserver.oauth.client_secrets import hash_secret
from shared.cli import cli, create_cli_app
from shared.db import db, utcnow
from shared.settings import Settings
from tests.authserver.test_revocation_endpoint import basic
from tests.factories import make_app_client, make_client

# How long a test waits for the live server to see a change: its copies of a client are at most
# CLIENT_CACHE_SECONDS old, and a loaded machine is slow.
SEEN_WITHIN_SECONDS = CLIENT_CACHE_SECONDS + 2


@pytest.fixture
def runner(settings: Settings) -> FlaskCliRunner:
    """`drawbridge` on the session's database, which the live servers read too."""
    return create_cli_app(settings).test_cli_runner()


@pytest.fixture
def committed_client(auth_context) -> NewClient:
    return make_client(scope="posts:read")


@pytest.fixture
def http(auth_app: Flask) -> FlaskClient:
    return auth_app.test_client()


def rotate(runner: FlaskCliRunner, client_id: str, *options: str) -> dict[str, str]:
    result = runner.invoke(cli, ["clients", "rotate-secret", client_id, *options], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return dict(line.split(": ", 1) for line in result.stdout.splitlines())


def stored_secrets(client_id: str) -> list[ClientSecret]:
    db.session.expire_all()
    return list(db.session.scalars(select(ClientSecret).where(ClientSecret.client_id == client_id).order_by(ClientSecret.id)))


def token_status(url: str, client_id: str, secret: str) -> int:
    return httpx.post(f"{url}/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret), timeout=10).status_code


def wait_for_status(url: str, client_id: str, secret: str, status: int) -> float:
    """Seconds until the live server answers `status` for these credentials (asked of every worker in turn)."""
    start = time.monotonic()
    while token_status(url, client_id, secret) != status:
        assert time.monotonic() - start < SEEN_WITHIN_SECONDS, f"still not {status} after {SEEN_WITHIN_SECONDS} s"
        time.sleep(0.05)
    return time.monotonic() - start


def test_rotate_secret_shows_the_new_secret_once_and_keeps_the_old_one_for_the_grace(runner, committed_client):
    client_id = committed_client.client.client_id
    before = utcnow()

    result = runner.invoke(cli, ["clients", "rotate-secret", client_id, "--grace", "7d"], catch_exceptions=False)

    assert result.exit_code == 0, result.output
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    new_secret = lines["client_secret"]
    assert (result.stdout + result.stderr).count(new_secret) == 1
    assert "only its hash is kept" in result.stderr
    assert lines["client_id"] == client_id
    assert lines["expires_at"] == "never"
    old, new = stored_secrets(client_id)
    assert old.secret_hash == hash_secret(committed_client.client_secret)
    assert new.secret_hash == hash_secret(new_secret) and new.expires_at is None
    assert before + timedelta(days=7) <= old.expires_at <= utcnow() + timedelta(days=7)
    assert lines["previous_expire_at"] == readable(old.expires_at)


def test_rotate_secret_json_is_one_object_for_scripts(runner, committed_client):
    result = runner.invoke(
        cli, ["clients", "rotate-secret", committed_client.client.client_id, "--grace", "0", "--expires-in", "90d", "--json"],
        catch_exceptions=False,
    )

    shown = json.loads(result.stdout)
    assert set(shown) == {"client_id", "client_secret", "expires_at", "previous_expire_at"}
    new = stored_secrets(committed_client.client.client_id)[-1]
    assert new.secret_hash == hash_secret(shown["client_secret"])
    assert datetime.fromisoformat(shown["expires_at"]) == new.expires_at
    assert datetime.fromisoformat(shown["previous_expire_at"]) <= utcnow()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--grace", "7x"], "is not a duration"),
        (["--grace", "366d"], "The grace must be between 0 and 365 days."),
        (["--grace", "1d", "--expires-in", "0"], "A new secret needs a lifetime longer than 0."),
        (["--grace", "1d", "--expires-in", "4000d"], "An expiry must lie between now and 3650 days from now."),
        ([], "Missing option '--grace'"),
    ],
    ids=["not-a-duration", "grace-too-long", "no-lifetime", "lifetime-too-long", "no-grace"],
)
def test_rotate_secret_refuses_bad_input_and_changes_nothing(runner, committed_client, options, message):
    client_id = committed_client.client.client_id

    result = runner.invoke(cli, ["clients", "rotate-secret", client_id, *options])

    assert result.exit_code == 2
    assert message in result.output
    assert [s.secret_hash for s in stored_secrets(client_id)] == [hash_secret(committed_client.client_secret)]


def test_rotate_secret_names_unknown_and_public_clients(runner, auth_context):
    public = make_app_client(public=True).client.client_id

    unknown = runner.invoke(cli, ["clients", "rotate-secret", "no-such-client", "--grace", "1d"])
    secretless = runner.invoke(cli, ["clients", "rotate-secret", public, "--grace", "1d"])

    assert unknown.exit_code == secretless.exit_code == 2
    assert "No client with id no-such-client." in unknown.output
    assert f"{public} is a public client: it has no secret to rotate." in secretless.output
    assert stored_secrets(public) == []


def test_old_and_new_secret_both_work_during_the_grace_and_only_the_new_after(live_services, runner, committed_client):
    """The seed's FAQ: "issue the new key, set a future expiry on the old one, both work during the
    window". The grace ends by itself: nothing runs then, the live server checks the clock."""
    url, client_id, old_secret = live_services.auth.url, committed_client.client.client_id, committed_client.client_secret
    assert token_status(url, client_id, old_secret) == 200  # its copy of the client is in the server now
    grace_seconds = 6

    new_secret = rotate(runner, client_id, "--grace", f"{grace_seconds}s")["client_secret"]
    grace_ends = stored_secrets(client_id)[0].expires_at

    wait_for_status(url, client_id, new_secret, 200)
    assert token_status(url, client_id, old_secret) == 200
    time.sleep(max(0.0, (grace_ends - utcnow()).total_seconds() - 0.5))
    assert token_status(url, client_id, old_secret) == 200  # the server's copy is read now, within its age of the next
    time.sleep(max(0.0, (grace_ends - utcnow()).total_seconds()) + 0.05)
    assert token_status(url, client_id, old_secret) == 401  # at once: the copy carries the end of the grace
    assert token_status(url, client_id, new_secret) == 200


def test_a_grace_of_zero_ends_the_old_secret_within_the_copy_age(live_services, runner, committed_client):
    url, client_id, old_secret = live_services.auth.url, committed_client.client.client_id, committed_client.client_secret
    assert token_status(url, client_id, old_secret) == 200

    new_secret = rotate(runner, client_id, "--grace", "0")["client_secret"]

    assert wait_for_status(url, client_id, old_secret, 401) <= SEEN_WITHIN_SECONDS
    assert token_status(url, client_id, new_secret) == 200


def test_rotating_in_the_process_that_serves_takes_effect_at_once(http, committed_client):
    """The portal will rotate from the authorization server itself: its own copy goes with it."""
    client_id, old_secret = committed_client.client.client_id, committed_client.client_secret
    assert http.post("/token", data={"grant_type": "client_credentials"}, headers=basic(client_id, old_secret)).status_code == 200

    new_secret = secret_rotation.rotate_secret(client_id, grace_seconds=0).client_secret

    assert http.post("/token", data={"grant_type": "client_credentials"}, headers=basic(client_id, old_secret)).status_code == 401
    assert http.post("/token", data={"grant_type": "client_credentials"}, headers=basic(client_id, new_secret)).status_code == 200


def test_a_second_rotation_keeps_an_earlier_end_and_removes_ended_secrets(committed_client):
    client_id = committed_client.client.client_id
    secret_rotation.rotate_secret(client_id, grace_seconds=3600)
    first_ends = stored_secrets(client_id)[0].expires_at

    secret_rotation.rotate_secret(client_id, grace_seconds=7 * 86400)

    first, second, third = stored_secrets(client_id)
    assert first.expires_at == first_ends
    assert second.expires_at > first_ends and third.expires_at is None
    db.session.execute(update(ClientSecret).where(ClientSecret.id == first.id).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    secret_rotation.rotate_secret(client_id, grace_seconds=60)
    assert [s.id for s in stored_secrets(client_id)][:2] == [second.id, third.id]
    assert len(stored_secrets(client_id)) == 3


def test_each_secret_notes_its_own_last_use_without_a_write_per_token(http, committed_client):
    """Operators see whether the old secret is still in use before its grace ends; busy clients
    cost no write per token (at most one per SECRET_LAST_USED_RESOLUTION)."""
    client_id, old_secret = committed_client.client.client_id, committed_client.client_secret
    new_secret = secret_rotation.rotate_secret(client_id, grace_seconds=3600).client_secret
    assert all(info.last_used_at is None for info in describe_client(client_id).secrets)

    for secret in (old_secret, new_secret, new_secret):
        assert http.post("/token", data={"grant_type": "client_credentials"}, headers=basic(client_id, secret)).status_code == 200
    old, new = describe_client(client_id).secrets
    assert old.last_used_at is not None and new.last_used_at is not None
    assert old.last_used_at < new.last_used_at
    first_use = new.last_used_at
    assert http.post("/token", data={"grant_type": "client_credentials"}, headers=basic(client_id, new_secret)).status_code == 200
    assert describe_client(client_id).secrets[1].last_used_at == first_use  # no write
    db.session.execute(
        update(ClientSecret).where(ClientSecret.id == new.id).values(last_used_at=utcnow() - SECRET_LAST_USED_RESOLUTION - timedelta(seconds=1))
    )
    db.session.commit()
    secret_rotation.rotate_secret(client_id, grace_seconds=3600)  # the server's copy goes, as after a refresh
    assert http.post("/token", data={"grant_type": "client_credentials"}, headers=basic(client_id, new_secret)).status_code == 200
    assert describe_client(client_id).secrets[1].last_used_at > first_use


def test_clients_expire_sets_and_takes_away_a_clients_expiry(runner, committed_client):
    client_id = committed_client.client.client_id

    soon = runner.invoke(cli, ["clients", "expire", client_id, "--in", "30d"], catch_exceptions=False)
    db.session.expire_all()
    expires_at = db.session.scalar(select(Client.expires_at).where(Client.client_id == client_id))
    never = runner.invoke(cli, ["clients", "expire", client_id, "--never"], catch_exceptions=False)

    assert soon.exit_code == 0 and never.exit_code == 0
    assert expires_at is not None and timedelta(days=29) < expires_at - utcnow() <= timedelta(days=30)
    assert soon.stdout == f"{client_id}: expires {readable(expires_at)}.\n"
    assert never.stdout == f"{client_id}: expires never.\n"
    db.session.expire_all()
    assert db.session.scalar(select(Client.expires_at).where(Client.client_id == client_id)) is None


@pytest.mark.parametrize(
    ("options", "message"),
    [([], "Give either --in DURATION or --never."), (["--in", "1d", "--never"], "Give either --in DURATION or --never.")],
    ids=["neither", "both"],
)
def test_clients_expire_wants_one_of_its_options(runner, committed_client, options, message):
    result = runner.invoke(cli, ["clients", "expire", committed_client.client.client_id, *options])

    assert result.exit_code == 2
    assert message in result.output


def test_clients_show_lists_each_secret_with_its_times_never_its_value_or_hash(runner, committed_client):
    client_id = committed_client.client.client_id
    new_secret = rotate(runner, client_id, "--grace", "1d")["client_secret"]

    shown = runner.invoke(cli, ["clients", "show", client_id, "--json"], catch_exceptions=False).stdout
    lines = runner.invoke(cli, ["clients", "show", client_id], catch_exceptions=False).stdout

    summary = json.loads(shown)
    assert [set(s) for s in summary["secrets"]] == [{"id", "created_at", "expires_at", "last_used_at"}] * 2
    old, new = stored_secrets(client_id)
    assert datetime.fromisoformat(summary["secrets"][0]["expires_at"]) == old.expires_at
    assert summary["secrets"][1]["expires_at"] is None and summary["expires_at"] is None
    for output in (shown, lines):
        assert committed_client.client_secret not in output and new_secret not in output
        assert old.secret_hash not in output and new.secret_hash not in output
    shown_secrets = next(line for line in lines.splitlines() if line.startswith("secrets: "))
    assert shown_secrets == (
        f"secrets: id={old.id}, created_at={readable(old.created_at)}, expires_at={readable(old.expires_at)}, last_used_at=-; "
        f"id={new.id}, created_at={readable(new.created_at)}, expires_at=-, last_used_at=-"
    )
