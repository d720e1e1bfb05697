"""`drawbridge registration-tokens ...`: the initial access tokens (RFC 7591) operators issue for machine clients."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from authserver.cli.common import Duration
from authserver.oauth import initial_access_tokens


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
