"""`drawbridge users ...`: the people who log in and consent: create, list, set-password, disable, enable, role."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from authserver.cli.common import REDIS_UNREACHABLE, REVOCATION_NOT_WRITTEN, explains_redis_errors
from authserver.cli.output import json_option, print_json, print_table
from authserver.models import ROLES
from authserver.users import (
    UserSpecError,
    assign_role,
    create_user,
    disable_user,
    enable_user,
    list_users,
    remove_role,
    set_password,
)


@click.group(help="Manage the people who log in and consent.")
def users() -> None:
    pass


@users.command("create")
@click.option("--email", required=True)
@click.password_option(help="Prompted for (twice, hidden) when not given.")
@with_appcontext
def create_user_command(email: str, password: str) -> None:
    """Create a person who can log in; the password is stored as an argon2 hash."""
    try:
        user = create_user(email, password)
    except UserSpecError as error:
        raise click.UsageError(str(error)) from error
    click.echo(f"Created user {user.email}.")


@users.command("list")
@json_option
@with_appcontext
def list_users_command(as_json: bool) -> None:
    """List the people who can log in, by email, with the grants they have given clients and their roles."""
    found = list_users()
    if as_json:
        print_json(found)
        return
    rows = [(u.email, "disabled" if u.disabled_at else "enabled", u.live_grants, ",".join(u.roles), u.created_at) for u in found]
    print_table(("EMAIL", "STATE", "GRANTS", "ROLES", "CREATED"), rows, empty="No users.")


@users.command("set-password")
@click.argument("email")
@click.password_option(help="Prompted for (twice, hidden) when not given.")
@with_appcontext
def set_password_command(email: str, password: str) -> None:
    """Give a person a new password; every session they have open ends."""
    try:
        user = set_password(email, password)
    except UserSpecError as error:
        raise click.UsageError(str(error)) from error
    click.echo(f"New password set for {user.email}; their sessions have ended.")


@users.command("disable")
@click.argument("email")
@with_appcontext
@explains_redis_errors(
    REVOCATION_NOT_WRITTEN.format(who="{email}", what="sessions, refresh tokens and codes", again="drawbridge users disable {email}")
)
def disable_user_command(email: str) -> None:
    """Stop a person: they cannot log in, their sessions end and every token issued for them stops working at once."""
    try:
        user = disable_user(email)
    except UserSpecError as error:
        raise click.UsageError(str(error)) from error
    click.echo(f"{user.email}: disabled; their sessions and tokens no longer work.")


@users.command("enable")
@click.argument("email")
@with_appcontext
@explains_redis_errors("{email}: " + REDIS_UNREACHABLE)
def enable_user_command(email: str) -> None:
    """Let a disabled person log in again (the tokens issued for them before stay void)."""
    try:
        user = enable_user(email)
    except UserSpecError as error:
        raise click.UsageError(str(error)) from error
    click.echo(f"{user.email}: enabled.")


@users.command("role")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLES))
@click.option("--remove", is_flag=True, help="Take the role away instead.")
@with_appcontext
def role_command(email: str, role: str, remove: bool) -> None:
    """Give a person a role (developer: the developer portal; admin: the admin console), or take it
    away with --remove. It counts from their next page."""
    try:
        user = remove_role(email, role) if remove else assign_role(email, role)
    except UserSpecError as error:
        raise click.UsageError(str(error)) from error
    held = ", ".join(r.role for r in user.roles) or "none"
    click.echo(f"{user.email}: roles {held}.")
