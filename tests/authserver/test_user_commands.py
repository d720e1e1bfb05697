"""`drawbridge users role` as an operator runs it: what is stored and listed, and what each refusal says.

That a role opens its pages (and its absence hides them) is tested on the pages, in
tests/authserver/test_account_pages.py.
"""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from authserver.models import User, UserRole
from shared.cli import create_cli_app
from shared.db import db
from tests.authserver.commands import run
from tests.factories import make_user


@pytest.fixture
def runner(fresh_auth_app: Flask) -> FlaskCliRunner:
    return create_cli_app(fresh_auth_app.config["SETTINGS"]).test_cli_runner()



def roles_of(email: str) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(UserRole.role).join(User).where(User.email == email).order_by(UserRole.role)))


def test_users_role_gives_each_role_once_and_says_what_the_person_holds(runner):
    person = make_user()

    developer = run(runner, "users", "role", person.email.upper(), "developer")
    again = run(runner, "users", "role", person.email, "developer")
    admin = run(runner, "users", "role", person.email, "admin")

    assert developer.output == f"{person.email}: roles developer.\n"
    assert again.output == developer.output
    assert admin.output == f"{person.email}: roles admin, developer.\n"
    assert roles_of(person.email) == ["admin", "developer"]


def test_users_role_remove_takes_one_role_and_keeps_the_other(runner):
    person = make_user()
    run(runner, "users", "role", person.email, "developer")
    run(runner, "users", "role", person.email, "admin")

    removed = run(runner, "users", "role", person.email, "admin", "--remove")
    removed_again = run(runner, "users", "role", person.email, "admin", "--remove")

    assert removed.output == removed_again.output == f"{person.email}: roles developer.\n"
    assert roles_of(person.email) == ["developer"]
    run(runner, "users", "role", person.email, "developer", "--remove")
    assert roles_of(person.email) == []


def test_users_list_shows_the_roles_in_the_table_and_the_json(runner):
    developer, nobody = make_user(), make_user()
    run(runner, "users", "role", developer.email, "developer")
    run(runner, "users", "role", developer.email, "admin")

    table = run(runner, "users", "list").stdout.splitlines()
    listed = {u["email"]: u["roles"] for u in json.loads(run(runner, "users", "list", "--json").stdout)}

    assert table[0].split()[:5] == ["EMAIL", "STATE", "GRANTS", "ROLES", "CREATED"]
    rows = {line.split()[0]: line.split()[3] for line in table[1:]}
    assert rows[developer.email] == "admin,developer"
    assert rows[nobody.email] == "-"
    assert listed[developer.email] == ["admin", "developer"]
    assert listed[nobody.email] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["users", "role", "nobody@example.com", "admin"], "No user with the email nobody@example.com."),
        (["users", "role", "nobody@example.com", "admin", "--remove"], "No user with the email nobody@example.com."),
        (["users", "role", "{email}", "owner"], "'owner' is not one of 'admin', 'developer'"),
        (["users", "role", "{email}"], "Missing argument '{admin|developer}'"),
    ],
    ids=["unknown-person", "unknown-person-remove", "unknown-role", "no-role"],
)
def test_users_role_refuses_what_it_cannot_do_and_changes_nothing(runner, args, message):
    person = make_user()

    result = run(runner, *(a.format(email=person.email) for a in args), exit_code=2)

    assert message in result.output
    assert roles_of(person.email) == []
    assert db.session.scalar(select(UserRole.user_id).limit(1)) is None
