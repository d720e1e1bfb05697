"""`drawbridge clients ...`: create, limit, disable, enable and prune OAuth clients."""

from __future__ import annotations

import click
from click.core import ParameterSource
from flask.cli import with_appcontext

from authserver.cli.common import PRUNE_STOPPED, REDIS_UNREACHABLE, REVOCATION_NOT_WRITTEN, explains_redis_errors
from authserver.clients import (
    KEEP,
    ClientSpecError,
    NewClient,
    create_client,
    demo_client,
    disable_client,
    enable_client,
    prune_unused,
    set_rate_limit,
)
from shared.app import current_settings
from shared.policy import ClientLimits, Defaults


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
    try:
        client = set_rate_limit(
            client_id,
            per_minute if "per_minute" in given or not (tools or "person" in given) else KEEP,
            person=person if "person" in given else KEEP,
            tools=dict(tools),
        )
    except ClientSpecError as error:
        raise click.UsageError(str(error)) from error
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


@clients.command("prune")
@click.option("--unused-days", type=click.IntRange(min=1), help="Default: DRAWBRIDGE_UNUSED_CLIENT_DAYS (90).")
@with_appcontext
@explains_redis_errors(PRUNE_STOPPED)
def prune(unused_days: int | None) -> None:
    """Delete dynamically registered clients that have not been used for a while."""
    days = unused_days or current_settings().unused_client_days
    removed = prune_unused(days)
    click.echo(f"Removed {removed} registered clients unused for {days} days.")
