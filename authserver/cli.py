"""`drawbridge clients ...`, `drawbridge keys ...` and `drawbridge users ...`."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from authserver import keys as signing_keys
from authserver.clients import ClientSpecError, NewClient, create_client, demo_client, prune_unused, set_rate_limit
from authserver.users import UserSpecError, create_user
from shared.app import current_settings


@click.group(help="Manage OAuth clients.")
def clients() -> None:
    pass


@clients.command("create")
@click.option("--name", required=True, help="A name people will recognise.")
@click.option("--scopes", "scope", required=True, help='Space-separated scopes, e.g. "posts:read posts:write".')
@click.option("--grant", "grants", multiple=True, default=["client_credentials"], show_default=True)
@click.option("--rate-limit", type=click.IntRange(min=1), help="Tool calls per minute (default: the deployment's).")
@with_appcontext
def create(name: str, scope: str, grants: tuple[str, ...], rate_limit: int | None) -> None:
    """Create a confidential client and print its id and secret (shown this once only)."""
    try:
        new = create_client(name, scope, list(grants), rate_limit_per_minute=rate_limit)
    except ClientSpecError as error:
        raise click.UsageError(str(error)) from error
    _print_credentials(new)


@clients.command("limit")
@click.argument("client_id")
@click.argument("per_minute", type=click.IntRange(min=1), required=False)
@with_appcontext
def limit(client_id: str, per_minute: int | None) -> None:
    """Set a client's tool calls per minute (leave it out for the deployment's default)."""
    try:
        set_rate_limit(client_id, per_minute)
    except ClientSpecError as error:
        raise click.UsageError(str(error)) from error
    click.echo(f"{client_id}: {per_minute or 'default'} tool calls per minute.")


@clients.command("demo")
@with_appcontext
def demo() -> None:
    """Create the quick-start's demo client, or give it a new secret, and print its credentials."""
    _print_credentials(demo_client())


def _print_credentials(new: NewClient) -> None:
    click.echo(f"client_id: {new.client.client_id}")
    click.echo(f"client_secret: {new.client_secret}")
    click.echo("Store the secret now: only its hash is kept.", err=True)


@click.group(help="Manage token signing keys.")
def keys() -> None:
    pass


@keys.command("rotate")
@with_appcontext
def rotate() -> None:
    """Create a new ES256 signing key; the old one stays published until its tokens expire."""
    key = signing_keys.rotate()
    click.echo(f"kid: {key.kid}")


@keys.command("ensure")
@with_appcontext
def ensure() -> None:
    """Create a signing key only if there is none (safe to run at every start)."""
    key = signing_keys.ensure()
    click.echo(f"kid: {key.kid}" if key else "A signing key exists; nothing to do.")


@keys.command("rewrap")
@click.option(
    "--encrypt-clear", is_flag=True,
    help="Also encrypt keys stored in clear by a version before encryption at rest (once, when upgrading).",
)
@with_appcontext
def rewrap(encrypt_clear: bool) -> None:
    """Re-encrypt every stored key under the first of DRAWBRIDGE_KEY_ENCRYPTION_KEYS.

    To change the key-encryption key without downtime: set DRAWBRIDGE_KEY_ENCRYPTION_KEYS to "NEW OLD"
    everywhere and restart, run this, then set it to "NEW" alone.
    """
    try:
        done = signing_keys.rewrap(encrypt_clear)
    except signing_keys.RewrapError as error:
        raise click.ClickException(f"Nothing changed: {error}") from error
    click.echo(f"Re-encrypted {done.moved} keys, encrypted {done.encrypted} stored in clear; {done.current} were current.")


@clients.command("prune")
@click.option("--unused-days", type=click.IntRange(min=1), help="Default: DRAWBRIDGE_UNUSED_CLIENT_DAYS (90).")
@with_appcontext
def prune(unused_days: int | None) -> None:
    """Delete dynamically registered clients that have not been used for a while."""
    days = unused_days or current_settings().unused_client_days
    removed = prune_unused(days)
    click.echo(f"Removed {removed} registered clients unused for {days} days.")


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
