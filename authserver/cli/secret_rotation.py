"""`drawbridge clients rotate-secret|expire`: a client's secrets and its own expiry, over time
(authserver/secret_rotation.py). Commands of the `clients` group, kept apart from its other ones."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from authserver import secret_rotation
from authserver.cli.common import Duration, refused
from authserver.cli.output import json_option, print_fields, print_json, readable
from authserver.client_specs import ClientSpecError


@click.command("rotate-secret")
@click.argument("client_id")
@click.option(
    "--grace", "grace_seconds", type=Duration(), required=True,
    help="How long the old secret keeps working: 0 (it stops now), 30m, 12h, 7d (at most 365d).",
)
@click.option("--expires-in", "lifetime_seconds", type=Duration(), help="A lifetime for the new secret, e.g. 90d (default: none).")
@json_option
@with_appcontext
def rotate_secret(client_id: str, grace_seconds: int, lifetime_seconds: int | None, as_json: bool) -> None:
    """Give a client a new secret and print it (shown this once only). The old one keeps working
    until the grace ends, then stops by itself."""
    with refused(ClientSpecError):
        rotated = secret_rotation.rotate_secret(client_id, grace_seconds, lifetime_seconds)
    if as_json:
        print_json(rotated)
    else:
        print_fields({
            "client_id": rotated.client_id,
            "client_secret": rotated.client_secret,
            "expires_at": rotated.expires_at or "never",
            "previous_expire_at": rotated.previous_expire_at,
        })
    click.echo("Store the secret now: only its hash is kept.", err=True)


@click.command("expire")
@click.argument("client_id")
@click.option("--in", "lifetime_seconds", type=Duration(), help="From when on it gets no token: 0 (now), 12h, 30d.")
@click.option("--never", is_flag=True, help="Take its expiry away.")
@with_appcontext
def expire(client_id: str, lifetime_seconds: int | None, never: bool) -> None:
    """Set when a client stops getting tokens (they are refused with invalid_client); the tokens it
    holds run out as they would."""
    if never == (lifetime_seconds is not None):
        raise click.UsageError("Give either --in DURATION or --never.")
    with refused(ClientSpecError):
        client = secret_rotation.set_client_expiry(client_id, lifetime_seconds)
    click.echo(f"{client_id}: expires {readable(client.expires_at or 'never')}.")
