"""`drawbridge clients create`, `clients limit`, `users` and `keys rotate|list` as an operator runs them."""

from __future__ import annotations

import json
import secrets
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from authserver.models import Client, SigningKey, User
from authserver.oauth.client_secrets import hash_secret
from shared import policy
from shared.cli import cli, create_cli_app
from shared.db import db, utcnow
from tests import live


@pytest.fixture
def runner(fresh_auth_app):
    app = create_cli_app(fresh_auth_app.config["SETTINGS"])
    return app.test_cli_runner()


def invoke(runner, *args: str):
    return runner.invoke(cli, list(args), catch_exceptions=False)


def test_clients_create_prints_the_id_and_secret_once_and_stores_a_hash(runner):
    result = invoke(runner, "clients", "create", "--name", "CI bot", "--scopes", "posts:read")

    assert result.exit_code == 0
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    stored = db.session.scalar(select(Client).where(Client.client_id == lines["client_id"]))
    assert stored.client_name == "CI bot"
    assert stored.scope == "posts:read"
    assert stored.grant_types == "client_credentials"
    assert [s.secret_hash for s in stored.secrets] == [hash_secret(lines["client_secret"])]
    assert lines["client_secret"] not in stored.secrets[0].secret_hash
    assert len(lines["client_secret"]) >= 43  # 256 bits, base64url


def test_clients_create_introspect_makes_a_resource_servers_credentials(runner):
    """RFC 7662 section 4: resource servers are "specifically authorized to call the introspection
    endpoint"; an operator marks them so, and they need no scopes of their own."""
    result = invoke(runner, "clients", "create", "--name", "MCP server", "--introspect")

    assert result.exit_code == 0, result.output
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    stored = db.session.scalar(select(Client).where(Client.client_id == lines["client_id"]))
    assert stored.may_introspect is True
    assert stored.scope == ""
    ordinary = invoke(runner, "clients", "create", "--name", "CI bot", "--scopes", "posts:read")
    ordinary_id = dict(line.split(": ", 1) for line in ordinary.stdout.splitlines())["client_id"]
    assert db.session.scalar(select(Client.may_introspect).where(Client.client_id == ordinary_id)) is False


def test_a_new_clients_id_can_be_given_to_every_command(runner, monkeypatch):
    """A random id starting with "-" would be read as an option by `drawbridge clients disable ID`."""
    monkeypatch.setattr(secrets, "token_urlsafe", lambda size: "-Rq" + "x" * (size - 3))
    created = invoke(runner, "clients", "create", "--name", "CI bot", "--scopes", "posts:read")
    client_id = dict(line.split(": ", 1) for line in created.stdout.splitlines())["client_id"]

    result = runner.invoke(cli, ["clients", "disable", client_id])

    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scopes", "posts:read root:all"], "Unknown scopes: root:all"),
        (["--scopes", "posts:read", "--kind", "password"], "Invalid value for '--kind': 'password' is not one of 'machine', 'web', 'public'."),
        (["--scopes", "posts:read", "--name", "  "], "A client needs a name."),
        ([], "A client needs at least one scope"),
    ],
    ids=["unknown-scope", "unknown-kind", "blank-name", "no-scopes"],
)
def test_clients_create_refuses_bad_input_with_a_usage_error(runner, args, message):
    base = ["clients", "create", "--name", "x"]
    result = runner.invoke(cli, base + args)

    assert result.exit_code == 2
    assert message in result.output
    assert db.session.query(Client).count() == 0


@pytest.mark.parametrize("group", ["clients", "users", "grants", "registration-tokens"])
def test_every_lifecycle_command_explains_itself(runner, group):
    """`drawbridge GROUP --help` lists each command with a sentence, and each command's --help says
    what it does; none needs the database or Redis to answer."""
    listing = invoke(runner, group, "--help")
    commands = cli.commands[group].commands

    assert listing.exit_code == 0
    for name, command in commands.items():
        assert command.get_short_help_str(), f"{group} {name} has no help"
        assert name in listing.stdout
        own = invoke(runner, group, name, "--help")
        assert own.exit_code == 0
        assert (command.help or "").split("\n")[0][:40] in own.stdout.replace("\n  ", " ")


def test_keys_rotate_prints_the_new_kid(runner):
    result = invoke(runner, "keys", "rotate")

    assert result.exit_code == 0
    kid = result.stdout.strip().removeprefix("kid: ")
    assert db.session.scalar(select(SigningKey.kid).where(SigningKey.retired_at.is_(None))) == kid


def test_keys_list_shows_each_keys_state_and_age_and_json_for_scripts(runner):
    retired = invoke(runner, "keys", "rotate").stdout.strip().removeprefix("kid: ")
    active = invoke(runner, "keys", "rotate").stdout.strip().removeprefix("kid: ")

    table = invoke(runner, "keys", "list").stdout.splitlines()
    listed = json.loads(invoke(runner, "keys", "list", "--json").stdout)

    assert table[0].split() == ["KID", "STATE", "CREATED", "AGE", "RETIRED", "PUBLISHED", "UNTIL"]
    assert table[1].split()[:2] == [active, "active"] and "0 min" in table[1]
    assert table[2].split()[:2] == [retired, "retired"]
    assert [(k["kid"], k["state"], k["published_until"] is None) for k in listed] == [(active, "active", True), (retired, "retired", False)]
    assert "private" not in json.dumps(listed) and '"d"' not in json.dumps(listed)


def test_clients_demo_gives_the_demo_client_a_new_secret_each_time(runner):
    first = invoke(runner, "clients", "demo").stdout
    second = invoke(runner, "clients", "demo").stdout

    assert "client_id: demo-agent" in first
    assert first != second
    assert db.session.query(Client).count() == 1


def test_users_create_stores_an_argon2_hash(runner):
    result = invoke(runner, "users", "create", "--email", "Ada@Example.com", "--password", "a long enough password")

    assert result.exit_code == 0
    user = db.session.scalar(select(User).where(User.email == "ada@example.com"))
    assert user.password_hash.startswith("$argon2id$")


def test_users_list_shows_each_person_and_never_a_password_hash(runner):
    invoke(runner, "users", "create", "--email", "b@example.com", "--password", "a long enough password")
    invoke(runner, "users", "create", "--email", "a@example.com", "--password", "a long enough password")
    invoke(runner, "users", "disable", "b@example.com")

    table = invoke(runner, "users", "list").stdout
    listed = json.loads(invoke(runner, "users", "list", "--json").stdout)

    assert [line.split()[:3] for line in table.splitlines()] == [
        ["EMAIL", "STATE", "GRANTS"], ["a@example.com", "enabled", "0"], ["b@example.com", "disabled", "0"]
    ]
    assert [(u["email"], u["disabled_at"] is None, u["live_grants"]) for u in listed] == [("a@example.com", True, 0), ("b@example.com", False, 0)]
    assert "argon2" not in table + json.dumps(listed)


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [("not-an-email", "a long enough password", "is not an email address"), ("b@example.com", "short", "at least 12")],
    ids=["bad-email", "short-password"],
)
def test_users_create_refuses_bad_input(runner, email, password, message):
    result = runner.invoke(cli, ["users", "create", "--email", email, "--password", password])

    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["clients", "disable", "no-such-client"], "No client with id no-such-client."),
        (["clients", "enable", "no-such-client"], "No client with id no-such-client."),
        (["users", "disable", "nobody@example.com"], "No user with the email nobody@example.com."),
        (["users", "enable", "nobody@example.com"], "No user with the email nobody@example.com."),
        (["users", "set-password", "nobody@example.com", "--password", "a long enough password"], "No user with the email"),
    ],
    ids=["disable-client", "enable-client", "disable-user", "enable-user", "set-password"],
)
def test_taking_access_back_names_what_it_cannot_find(runner, args, message):
    result = runner.invoke(cli, args)

    assert result.exit_code == 2
    assert message in result.output


def test_users_set_password_refuses_a_short_one_and_keeps_the_old(runner):
    invoke(runner, "users", "create", "--email", "c@example.com", "--password", "a long enough password")
    before = db.session.scalar(select(User.password_hash).where(User.email == "c@example.com"))

    result = runner.invoke(cli, ["users", "set-password", "c@example.com", "--password", "short"])

    assert result.exit_code == 2
    assert "at least 12" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(User.password_hash).where(User.email == "c@example.com")) == before


def created_client_id(runner) -> str:
    result = invoke(runner, "clients", "create", "--name", "Limited bot", "--scopes", "posts:read", "--rate-limit", "50")
    return dict(line.split(": ", 1) for line in result.stdout.splitlines())["client_id"]


def test_clients_limit_writes_the_record_and_the_copy_every_limiter_reads(runner, redis_client):
    client_id = created_client_id(runner)
    assert redis_client.hget(policy.limits_key(client_id), "client") == b"50"

    assert invoke(runner, "clients", "limit", client_id, "7").exit_code == 0
    assert db.session.scalar(select(Client.rate_limit_per_minute).where(Client.client_id == client_id)) == 7
    assert redis_client.hget(policy.limits_key(client_id), "client") == b"7"

    assert invoke(runner, "clients", "limit", client_id).exit_code == 0
    assert db.session.scalar(select(Client.rate_limit_per_minute).where(Client.client_id == client_id)) is None
    assert redis_client.hget(policy.limits_key(client_id), "client") == b"0"  # the deployment's default


def test_clients_limit_sets_the_limits_per_person_and_per_tool_and_puts_each_back(runner, redis_client):
    client_id = created_client_id(runner)

    result = invoke(runner, "clients", "limit", client_id, "--person", "90", "--tool", "create_post", "5", "--tool", "cancel_order", "2")

    assert result.output == f"{client_id}: 50 tool calls per minute; per person 90; per caller and tool: cancel_order 2, create_post 5.\n"
    stored = db.session.scalar(select(Client).where(Client.client_id == client_id))
    assert (stored.rate_limit_per_minute, stored.person_rate_limit_per_minute, stored.tool_rate_limits) == (50, 90, {"cancel_order": 2, "create_post": 5})
    assert redis_client.hgetall(policy.limits_key(client_id)) == {
        b"client": b"50", b"person": b"90", b"tool:cancel_order": b"2", b"tool:create_post": b"5",
    }

    result = invoke(runner, "clients", "limit", client_id, "default", "--person", "default", "--tool", "cancel_order", "default")

    assert result.output == f"{client_id}: 120 (default) tool calls per minute; per person 240 (default); per caller and tool: create_post 5.\n"
    assert redis_client.hgetall(policy.limits_key(client_id)) == {b"client": b"0", b"person": b"0", b"tool:create_post": b"5"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tool", "no_such_tool", "5"], "No tool named no_such_tool. Tools: cancel_order check_job_status create_order"),
        (["--person", "0"], "'0' is not a whole number of at least 1, nor 'default'."),
        (["0"], "'0' is not a whole number of at least 1, nor 'default'."),
        (["--tool", "create_post"], "Option '--tool' requires 2 arguments."),
    ],
    ids=["unknown-tool", "person-zero", "client-zero", "tool-without-limit"],
)
def test_clients_limit_refuses_an_unknown_tool_or_a_limit_under_one_and_changes_nothing(runner, redis_client, args, message):
    client_id = created_client_id(runner)

    result = runner.invoke(cli, ["clients", "limit", client_id, *args])

    assert result.exit_code == 2
    assert message in result.output
    assert redis_client.hgetall(policy.limits_key(client_id)) == {b"client": b"50", b"person": b"0"}


def test_clients_limit_changes_nothing_while_redis_is_unreachable(runner, fresh_auth_app, redis_client):
    client_id = created_client_id(runner)
    unreachable = create_cli_app(replace(fresh_auth_app.config["SETTINGS"], redis_url=f"redis://127.0.0.1:{live.free_port()}/0"))

    with unreachable.app_context():
        result = unreachable.test_cli_runner().invoke(cli, ["clients", "limit", client_id, "7"])

    assert result.exit_code == 1
    assert "Redis is unreachable, so nothing was changed" in result.output
    assert "Traceback" not in result.output
    db.session.expire_all()
    assert db.session.scalar(select(Client.rate_limit_per_minute).where(Client.client_id == client_id)) == 50
    assert redis_client.hget(policy.limits_key(client_id), "client") == b"50"


def test_clients_demo_and_prune_say_what_was_kept_while_redis_is_unreachable(runner, fresh_auth_app):
    """A sentence instead of a traceback: the demo client is not created, and a registered client
    is not removed before Redis has voided its tokens."""
    client_id = created_client_id(runner)
    registered = db.session.scalar(select(Client).where(Client.client_id == client_id))
    registered.registered_via, registered.created_at = "dcr", utcnow() - timedelta(days=91)
    db.session.commit()
    unreachable = create_cli_app(replace(fresh_auth_app.config["SETTINGS"], redis_url=f"redis://127.0.0.1:{live.free_port()}/0"))

    with unreachable.app_context():
        demo = unreachable.test_cli_runner().invoke(cli, ["clients", "demo"])
        prune = unreachable.test_cli_runner().invoke(cli, ["clients", "prune", "--unused-days", "90"])

    assert (demo.exit_code, prune.exit_code) == (1, 1)
    assert "Redis is unreachable, so nothing was changed" in demo.output
    assert "Redis is unreachable, so the clients not yet removed were kept" in prune.output
    assert "Traceback" not in demo.output + prune.output
    db.session.expire_all()
    assert list(db.session.scalars(select(Client.client_id))) == [client_id]
