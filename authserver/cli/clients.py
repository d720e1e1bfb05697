"""`drawbridge clients ...`: create, list, show, update, limit, disable, enable, delete and prune OAuth clients."""

from __future__ import annotations

import dataclasses

import click
from click.core import ParameterSource
from flask.cli import with_appcontext

from authserver.cli import secret_rotation
from authserver.cli.common import PRUNE_STOPPED, REDIS_UNREACHABLE, REVOCATION_NOT_WRITTEN, explains_redis_errors, refused
from authserver.cli.output import json_option, print_fields, print_json, print_table
from authserver.client_specs import KINDS, MACHINE, ClientSpecError
from authserver.client_summaries import ClientSummary, describe_client, list_clients, summary
from authserver.clients import (
    KEEP,
    NewClient,
    create_client,
    delete_client,
    demo_client,
    disable_client,
    enable_client,
    find_client,
    prune_unused,
    set_rate_limit,
    update_client,
)
from shared.app import current_settings
from shared.policy import ClientLimits, Defaults

KIND_HELP = "; ".join(f"{kind.name}: {kind.title}" for kind in KINDS.values())


@click.group(help="Manage OAuth clients: the machines and apps that get tokens.")
def clients() -> None:
    pass


clients.add_command(secret_rotation.rotate_secret)
clients.add_command(secret_rotation.expire)


@clients.command("create")
@click.option("--name", required=True, help="A name people will recognise (shown on the consent page).")
@click.option("--kind", type=click.Choice(list(KINDS)), default=MACHINE.name, show_default=True, help=KIND_HELP + ".")
@click.option(
    "--scopes", "scope", default="",
    help='Space-separated scopes: what a machine holds, or what an app may ask a person for, e.g. "posts:read posts:write".',
)
@click.option(
    "--redirect-uri", "redirect_uris", multiple=True, metavar="URI",
    help="Where an app sends people back after consent (repeat for several): https, or http on 127.0.0.1, [::1] or localhost.",
)
@click.option("--rate-limit", type=click.IntRange(min=1), help="Tool calls per minute (default: the deployment's).")
@click.option("--introspect", is_flag=True, help="A resource server's credentials (machine): it may introspect any access token at /introspect; no scopes needed.")
@json_option
@with_appcontext
@explains_redis_errors(REDIS_UNREACHABLE)
def create(name: str, kind: str, scope: str, redirect_uris: tuple[str, ...], rate_limit: int | None, introspect: bool, as_json: bool) -> None:
    """Create a client and print its id and secret (shown this once only; a public app has none).

    \b
    drawbridge clients create --name "CI bot" --scopes "posts:read"
    drawbridge clients create --name "Blog" --kind web --scopes "posts:read posts:write" --redirect-uri https://blog.example.com/callback
    drawbridge clients create --name "Desktop app" --kind public --scopes posts:read --redirect-uri http://127.0.0.1/callback
    """
    with refused(ClientSpecError):
        new = create_client(name, scope, KINDS[kind], redirect_uris, rate_limit_per_minute=rate_limit, may_introspect=introspect)
    _print_credentials(new, as_json)


@clients.command("list")
@click.option("--kind", type=click.Choice(list(KINDS)), help="Only clients of this kind.")
@json_option
@with_appcontext
def list_command(kind: str | None, as_json: bool) -> None:
    """List clients, newest first (never their secrets)."""
    found = list_clients(kind)
    if as_json:
        print_json(found)
        return
    rows = [(c.client_id, c.kind, "disabled" if c.disabled_at else "enabled", c.name, c.scopes, c.last_used_at) for c in found]
    print_table(("CLIENT ID", "KIND", "STATE", "NAME", "SCOPES", "LAST USED"), rows, empty="No clients.")


@clients.command("show")
@click.argument("client_id")
@json_option
@with_appcontext
def show(client_id: str, as_json: bool) -> None:
    """Show everything about one client but its secret."""
    with refused(ClientSpecError):
        found = describe_client(client_id)
    _print_summary(found, as_json)


@clients.command("update")
@click.argument("client_id")
@click.option("--name", help="A new name.")
@click.option("--scopes", "scope", help="The scopes it holds or may ask for from now on; those left out stop working at once.")
@click.option("--redirect-uri", "redirect_uris", multiple=True, metavar="URI", help="Replaces every redirect URI of an app (repeat for several).")
@json_option
@with_appcontext
@explains_redis_errors("{client_id}: " + REDIS_UNREACHABLE)
def update(client_id: str, name: str | None, scope: str | None, redirect_uris: tuple[str, ...], as_json: bool) -> None:
    """Rename a client, change its scopes or replace its redirect URIs, and print it.

    Scopes taken away stop working at once: tokens issued before (and in the 3 s after) fail at the
    MCP server, and grants people gave it keep only the scopes left. New redirect URIs make each
    person consent again. Its rate limit has its own command: `drawbridge clients limit`.
    """
    if name is None and scope is None and not redirect_uris:
        raise click.UsageError("Nothing to change: give --name, --scopes or --redirect-uri.")
    with refused(ClientSpecError):
        client = update_client(client_id, name, scope, redirect_uris or None)
    _print_summary(describe_client(client.client_id), as_json)


class Limit(click.ParamType):
    """Tool calls per minute, at least 1, or `default`: the deployment's (None)."""

    name = "N|default"

    def convert(self, value: str | int | None, param: click.Parameter | None, ctx: click.Context | None) -> int | None:
        if value is None or value == "default":
            return None
        if not str(value).isdigit() or int(value) < 1:
            self.fail(f"{value!r} is not a whole number of at least 1, nor 'default'.", param, ctx)
        return int(value)


@clients.command("limit")
@click.argument("client_id")
@click.argument("per_minute", type=Limit(), required=False)
@click.option("--person", type=Limit(), metavar="N|default", help="A person's calls through this client, counted across every client they use.")
@click.option("--tool", "tools", type=(str, Limit()), multiple=True, metavar="NAME N|default", help="Each caller's calls of one tool; repeatable.")
@with_appcontext
@explains_redis_errors(REDIS_UNREACHABLE)
def limit(client_id: str, per_minute: int | None, person: int | None, tools: tuple[tuple[str, int | None], ...]) -> None:
    """Set a client's tool calls per minute (PER_MINUTE) and, with the options, its limits per person
    and per tool; `default` puts one back to the deployment's. Without PER_MINUTE or any option, the
    client's own limit goes back to the default."""
    given = {name for name in ("per_minute", "person") if click.get_current_context().get_parameter_source(name) is not ParameterSource.DEFAULT}
    with refused(ClientSpecError):
        client = set_rate_limit(
            client_id,
            per_minute if "per_minute" in given or not (tools or "person" in given) else KEEP,
            person=person if "person" in given else KEEP,
            tools=dict(tools),
        )
    click.echo(f"{client_id}: {_describe(client.rate_limits, Defaults.of(current_settings()))}.")


def _describe(limits: ClientLimits, defaults: Defaults) -> str:
    client = f"{limits.client}" if limits.client else f"{defaults.client} (default)"
    person = f"{limits.person}" if limits.person else f"{defaults.person} (default)"
    tools = ", ".join(f"{name} {limit}" for name, limit in limits.tools.items()) or "their defaults"
    return f"{client} tool calls per minute; per person {person}; per caller and tool: {tools}"


@clients.command("disable")
@click.argument("client_id")
@with_appcontext
@explains_redis_errors(
    REVOCATION_NOT_WRITTEN.format(who="{client_id}", what="refresh tokens and codes", again="drawbridge clients disable {client_id}")
)
def disable(client_id: str) -> None:
    """Stop a client: it gets no more tokens, and the ones it holds (access and refresh) stop working at once."""
    with refused(ClientSpecError):
        disable_client(client_id)
    click.echo(f"{client_id}: disabled; its tokens no longer work.")


@clients.command("enable")
@click.argument("client_id")
@with_appcontext
@explains_redis_errors("{client_id}: " + REDIS_UNREACHABLE)
def enable(client_id: str) -> None:
    """Let a disabled client get tokens again (the tokens it held before stay void)."""
    with refused(ClientSpecError):
        enable_client(client_id)
    click.echo(f"{client_id}: enabled.")


@clients.command("delete")
@click.argument("client_id")
@click.confirmation_option(prompt="Delete the client, its grants and its tokens for good?", help="Do not ask for confirmation.")
@with_appcontext
@explains_redis_errors("{client_id}: " + REDIS_UNREACHABLE)
def delete(client_id: str) -> None:
    """Delete a client for good: its id and secret stop working, and every token it holds at once.

    A client known from its metadata document (an https client_id) comes back, as new, the next time
    it is used: disable it to keep it out.
    """
    with refused(ClientSpecError):
        delete_client(find_client(client_id))
    click.echo(f"{client_id}: deleted; its tokens no longer work.")


@clients.command("demo")
@with_appcontext
@explains_redis_errors(REDIS_UNREACHABLE)
def demo() -> None:
    """Create the quick-start's demo client, or give it a new secret, and print its credentials."""
    _print_credentials(demo_client(), as_json=False)


@clients.command("prune")
@click.option("--unused-days", type=click.IntRange(min=1), help="Default: DRAWBRIDGE_UNUSED_CLIENT_DAYS (90).")
@with_appcontext
@explains_redis_errors(PRUNE_STOPPED)
def prune(unused_days: int | None) -> None:
    """Delete dynamically registered clients that have not been used for a while."""
    days = unused_days or current_settings().unused_client_days
    removed = prune_unused(days)
    click.echo(f"Removed {removed} registered clients unused for {days} days.")


def _print_credentials(new: NewClient, as_json: bool) -> None:
    """The new client's id and secret: the secret this once only, and a reminder on stderr."""
    if as_json:
        created = dataclasses.asdict(summary(new.client, live_grants=0))
        print_json({"client_id": new.client.client_id, "client_secret": new.client_secret, **created})
    else:
        click.echo(f"client_id: {new.client.client_id}")
        if new.client_secret is not None:
            click.echo(f"client_secret: {new.client_secret}")
    if new.client_secret is not None:
        click.echo("Store the secret now: only its hash is kept.", err=True)
    else:
        click.echo("A public app has no secret: it proves each authorization with PKCE.", err=True)


def _print_summary(found: ClientSummary, as_json: bool) -> None:
    if as_json:
        print_json(found)
    else:
        print_fields(dataclasses.asdict(found))
