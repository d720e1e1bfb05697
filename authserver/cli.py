"""`drawbridge clients ...`, `drawbridge keys ...`, `drawbridge users ...` and `drawbridge registration-tokens ...`."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import click
import redis
from flask.cli import with_appcontext

from authserver import keys as signing_keys
from authserver.clients import (
    ClientSpecError,
    NewClient,
    create_client,
    demo_client,
    disable_client,
    enable_client,
    prune_unused,
    set_rate_limit,
)
from authserver.oauth import initial_access_tokens
from authserver.users import UserSpecError, create_user, disable_user, enable_user, set_password
from shared.app import current_settings

# A disable is committed to the database before its revocation goes to Redis (clients.disable_client).
# Written with the command's own arguments: {client_id}, {email}.
REVOCATION_NOT_WRITTEN = (
    "{who}: disabled in the database (no new tokens; {what} void), but Redis is unreachable, so its "
    "access tokens are not yet void at the MCP server (which refuses every call while Redis is down). "
    "Run `{again}` again once Redis answers."
)
# Every resource server reads a client's limit from Redis: a limit only the database knew would
# not apply, so nothing is changed.
REDIS_UNREACHABLE = "Redis is unreachable, so nothing was changed; run the command again once it answers."
# A client is removed only once Redis has voided its tokens (clients.delete_client).
PRUNE_STOPPED = "Redis is unreachable, so the clients not yet removed were kept; run the command again once it answers."


def explains_redis_errors(message: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A command that says `message` (formatted with the command's arguments) when Redis cannot be
    reached, instead of printing a traceback."""

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(command)
        def run(**params: Any) -> None:
            try:
                command(**params)
            except redis.RedisError as error:
                raise click.ClickException(message.format(**params)) from error

        return run

    return decorate


@click.group(help="Manage OAuth clients.")
def clients() -> None:
    pass


@clients.command("create")
@click.option("--name", required=True, help="A name people will recognise.")
@click.option("--scopes", "scope", help='Space-separated scopes, e.g. "posts:read posts:write" (required without --introspect).')
@click.option("--grant", "grants", multiple=True, default=["client_credentials"], show_default=True)
@click.option("--rate-limit", type=click.IntRange(min=1), help="Tool calls per minute (default: the deployment's).")
@click.option("--introspect", is_flag=True, help="A resource server's credentials: it may introspect any access token at /introspect.")
@with_appcontext
@explains_redis_errors(REDIS_UNREACHABLE)
def create(name: str, scope: str | None, grants: tuple[str, ...], rate_limit: int | None, introspect: bool) -> None:
    """Create a confidential client and print its id and secret (shown this once only)."""
    if scope is None and not introspect:
        raise click.UsageError("Missing option '--scopes' (only a client made with --introspect may have none).")
    try:
        new = create_client(name, scope or "", list(grants), rate_limit_per_minute=rate_limit, may_introspect=introspect)
    except ClientSpecError as error:
        raise click.UsageError(str(error)) from error
    _print_credentials(new)


@clients.command("limit")
@click.argument("client_id")
@click.argument("per_minute", type=click.IntRange(min=1), required=False)
@with_appcontext
@explains_redis_errors(REDIS_UNREACHABLE)
def limit(client_id: str, per_minute: int | None) -> None:
    """Set a client's tool calls per minute (leave it out for the deployment's default)."""
    try:
        set_rate_limit(client_id, per_minute)
    except ClientSpecError as error:
        raise click.UsageError(str(error)) from error
    click.echo(f"{client_id}: {per_minute or 'default'} tool calls per minute.")


@clients.command("disable")
@click.argument("client_id")
@with_appcontext
@explains_redis_errors(
    REVOCATION_NOT_WRITTEN.format(who="{client_id}", what="refresh tokens and codes", again="drawbridge clients disable {client_id}")
)
def disable(client_id: str) -> None:
    """Stop a client: it gets no more tokens, and the ones it holds (access and refresh) stop working at once."""
    try:
        disable_client(client_id)
    except ClientSpecError as error:
        raise click.UsageError(str(error)) from error
    click.echo(f"{client_id}: disabled; its tokens no longer work.")


@clients.command("enable")
@click.argument("client_id")
@with_appcontext
@explains_redis_errors("{client_id}: " + REDIS_UNREACHABLE)
def enable(client_id: str) -> None:
    """Let a disabled client get tokens again (the tokens it held before stay void)."""
    try:
        enable_client(client_id)
    except ClientSpecError as error:
        raise click.UsageError(str(error)) from error
    click.echo(f"{client_id}: enabled.")


@clients.command("demo")
@with_appcontext
@explains_redis_errors(REDIS_UNREACHABLE)
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
@explains_redis_errors(PRUNE_STOPPED)
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


class Duration(click.ParamType):
    """A whole number of seconds, minutes, hours or days, written with its unit: 90s, 30m, 12h, 7d."""

    name = "duration"
    SECONDS_PER_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}

    def convert(self, value: str | int, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        number, unit = value[:-1], value[-1:]
        if unit not in self.SECONDS_PER_UNIT or not number.isdigit():
            self.fail(f"{value!r} is not a duration such as 30m, 12h or 7d.", param, ctx)
        return int(number) * self.SECONDS_PER_UNIT[unit]


@click.group("registration-tokens", help="Issue initial access tokens (RFC 7591) that let machine clients register.")
def registration_tokens() -> None:
    pass


@registration_tokens.command("create")
@click.option("--scopes", "scope", required=True, help='Space-separated scopes a client registered with it may hold, e.g. "posts:read".')
@click.option("--expires-in", "ttl_seconds", type=Duration(), required=True, help="How long it can be used: 30m, 12h, 7d (at most 365d).")
@click.option("--uses", type=click.IntRange(min=1), help="How many clients it may register (default: any number until it expires).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of lines.")
@with_appcontext
def create_registration_token(scope: str, ttl_seconds: int, uses: int | None, as_json: bool) -> None:
    """Print a new initial access token (shown this once only). A client sends it as
    `Authorization: Bearer <token>` to POST /register to register a client_credentials client."""
    try:
        new = initial_access_tokens.issue(scope, ttl_seconds, uses)
    except initial_access_tokens.InitialAccessTokenSpecError as error:
        raise click.UsageError(str(error)) from error
    issued = {
        "initial_access_token": new.token,
        "scope": new.row.scope,
        "expires_at": new.row.expires_at.isoformat(),
        "uses": new.row.uses_left,
    }
    if as_json:
        click.echo(json.dumps(issued))
    else:
        for name, value in issued.items():
            click.echo(f"{name}: {'unlimited' if value is None else value}")
    click.echo("Store the token now: only its hash is kept.", err=True)
