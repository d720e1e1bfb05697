"""`drawbridge grants ...`: what people allowed clients (a consent exchanged for tokens): list, revoke."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from authserver.cli.common import GRANT_REVOCATION_NOT_WRITTEN, explains_redis_errors, refused
from authserver.cli.output import json_option, print_json, print_table
from authserver.grants import GrantSpecError, list_grants, revoke


@click.group(help="See and revoke the access people granted clients.")
def grants() -> None:
    pass


@grants.command("list")
@click.option("--user", "email", metavar="EMAIL", help="Only this person's grants.")
@click.option("--client", "client_id", metavar="ID", help="Only the grants to this client.")
@click.option("--all", "include_revoked", is_flag=True, help="Revoked grants too.")
@json_option
@with_appcontext
def list_command(email: str | None, client_id: str | None, include_revoked: bool, as_json: bool) -> None:
    """List grants, newest first: who allowed which client what, and when it last got a token."""
    with refused(GrantSpecError):
        found = list_grants(email, client_id, include_revoked)
    if as_json:
        print_json(found)
        return
    headers = ("GRANT ID", "CLIENT ID", "CLIENT", "PERSON", "SCOPES", "GRANTED", "LAST USED") + (("REVOKED",) if include_revoked else ())
    rows = [
        (g.grant_id, g.client_id, g.client_name, g.user_email, g.scope, g.created_at, g.last_used_at) + ((g.revoked_at,) if include_revoked else ())
        for g in found
    ]
    print_table(headers, rows, empty="No grants.")


@grants.command("revoke")
@click.argument("grant_id")
@with_appcontext
@explains_redis_errors(GRANT_REVOCATION_NOT_WRITTEN)
def revoke_command(grant_id: str) -> None:
    """Revoke a grant: its refresh and access tokens stop working at once, and the client must ask
    the person again."""
    with refused(GrantSpecError):
        grant = revoke(grant_id)
    click.echo(f"{grant_id}: revoked; {grant.client_name} ({grant.client_id}) no longer acts for {grant.user_email}.")
