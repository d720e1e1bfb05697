"""`drawbridge registration-tokens ...`: the initial access tokens (RFC 7591) operators issue for machine clients: create, list, revoke."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from authserver.cli.common import Duration, refused
from authserver.cli.output import json_option, print_json, print_table
from authserver.oauth import initial_access_tokens


@click.group("registration-tokens", help="Issue, list and revoke initial access tokens (RFC 7591) that let machine clients register.")
def registration_tokens() -> None:
    pass


@registration_tokens.command("create")
@click.option("--scopes", "scope", required=True, help='Space-separated scopes a client registered with it may hold, e.g. "posts:read".')
@click.option("--expires-in", "ttl_seconds", type=Duration(), required=True, help="How long it can be used: 30m, 12h, 7d (at most 365d).")
@click.option("--uses", type=click.IntRange(min=1), help="How many clients it may register (default: any number until it expires).")
@json_option
@with_appcontext
def create_registration_token(scope: str, ttl_seconds: int, uses: int | None, as_json: bool) -> None:
    """Print a new initial access token (shown this once only) and its id, for `revoke`. A client
    sends it as `Authorization: Bearer <token>` to POST /register to register a client_credentials client."""
    try:
        new = initial_access_tokens.issue(scope, ttl_seconds, uses)
    except initial_access_tokens.InitialAccessTokenSpecError as error:
        raise click.UsageError(str(error)) from error
    issued = {
        "id": new.row.id,
        "initial_access_token": new.token,
        "scope": new.row.scope,
        "expires_at": new.row.expires_at.isoformat(),
        "uses": new.row.uses_left,
    }
    if as_json:
        print_json(issued)
    else:
        for name, value in issued.items():
            click.echo(f"{name}: {'unlimited' if value is None else value}")
    click.echo("Store the token now: only its hash is kept.", err=True)


@registration_tokens.command("list")
@click.option("--all", "include_unusable", is_flag=True, help="Expired and used-up tokens too.")
@json_option
@with_appcontext
def list_registration_tokens(include_unusable: bool, as_json: bool) -> None:
    """List the tokens that can still register clients, newest first (never the tokens themselves)."""
    found = initial_access_tokens.list_issued(include_unusable)
    if as_json:
        print_json(found)
        return
    rows = [(t.id, t.state, t.scope, t.expires_at, "unlimited" if t.uses_left is None else t.uses_left) for t in found]
    print_table(("ID", "STATE", "SCOPES", "EXPIRES", "USES LEFT"), rows, empty="No registration tokens.")


@registration_tokens.command("revoke")
@click.argument("token_id", type=int, metavar="ID")
@with_appcontext
def revoke_registration_token(token_id: int) -> None:
    """Revoke a token by the id `list` shows: it registers nothing more (the clients it registered stay)."""
    with refused(initial_access_tokens.InitialAccessTokenSpecError):
        initial_access_tokens.revoke(token_id)
    click.echo(f"Registration token {token_id}: revoked.")
