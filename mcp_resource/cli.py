"""`drawbridge demo ...` (demo data), `drawbridge tools ...` (switch, lint and scaffold tools), `drawbridge worker`."""

from __future__ import annotations

import os
import socket
from datetime import datetime, timezone
from pathlib import Path

import click
from flask.cli import with_appcontext
from rq import Worker

from authserver import audit_hours, audit_latency, audit_log
from authserver.audit_selection import OUTCOMES, Filters, TimeRange, UsageQueryError
from mcp_resource import job_worker, tool_states
from mcp_resource.demo.seed import seed as seed_demo_data
from mcp_resource.guardrails import audit as audit_trail
from mcp_resource.tools.lint import lint
from mcp_resource.tools.registry import ToolRegistry
from mcp_resource.tools.scaffold import ScaffoldError, scaffold
from shared import services as shared_services
from shared.app import current_settings
from shared.db import utcnow

# What --since and --until take; a time without an offset is UTC.
MOMENT_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


@click.group(help="The demo shop-and-blog domain.")
def demo() -> None:
    pass


@demo.command("seed")
@with_appcontext
def seed() -> None:
    """Add the demo data to an empty database (does nothing if it has data)."""
    added = seed_demo_data()
    click.echo(f"Added {added} demo rows." if added else "Demo data present; nothing to do.")


@click.group(help="The tools the MCP server offers.")
def tools() -> None:
    pass


@tools.command("list")
@with_appcontext
def list_tools() -> None:
    """Every installed tool, its scope, and whether it is switched on."""
    for tool in tool_states.switches():
        click.echo(f"{tool.name}\t{tool.scope}\t{'on' if tool.enabled else 'off'}")


@tools.command("new")
@click.argument("name")
@click.option("--directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True, help="Where to make it.")
def new_tool_package(name: str, directory: Path) -> None:
    """Make the skeleton of a tool package of your own: one scope, one tool, its entry points."""
    try:
        root = scaffold(name, directory)
    except ScaffoldError as error:
        raise click.UsageError(str(error)) from error
    click.echo(f"Made {root}. Install it where Drawbridge runs (pip install -e {root}), then: drawbridge tools list")


@tools.command("enable")
@click.argument("name")
@with_appcontext
def enable(name: str) -> None:
    """Switch a tool on; connected clients hear tools/list_changed within seconds."""
    _switch(name, True)


@tools.command("disable")
@click.argument("name")
@with_appcontext
def disable(name: str) -> None:
    """Switch a tool off everywhere: hidden from tools/list and refused when called."""
    _switch(name, False)


@tools.command("lint")
@with_appcontext
def lint_tools() -> None:
    """Check descriptions (one sentence, at most 200 characters), input fields (the JSON ones) and the tools/list size budget."""
    report = lint(ToolRegistry.from_entry_points(), current_settings().tools_payload_budget_bytes)
    for line in report.lines:
        click.echo(line)
    for problem in report.problems:
        click.echo(f"PROBLEM {problem}", err=True)
    if report.problems:
        raise SystemExit(1)


def _switch(name: str, enabled: bool) -> None:
    try:
        tool_states.switch(name, enabled)
    except tool_states.UnknownToolError as error:
        raise click.UsageError(str(error)) from error
    click.echo(f"{name} is {'on' if enabled else 'off'}.")


@click.command(help="Run the job worker: long tool work (reports) from the Redis queue.")
@click.option("--check", is_flag=True, help="Run no worker: exit 0 if one of this host is running and registered in Redis, else 1 (a health check).")
@with_appcontext
def worker(check: bool) -> None:
    client = shared_services.of().redis
    if client is None:
        raise click.UsageError("The worker needs REDIS_URL; without Redis, jobs run inside the MCP server.")
    if check:
        # rq's registry lists a worker until its heartbeat key expires (worker_ttl + 60 s after its
        # last heartbeat, so a hung worker drops out); one killed outright is seen by its pid.
        here = [w.name for w in Worker.all(connection=client) if w.hostname == socket.gethostname() and _running(w.pid)]
        if not here:
            raise SystemExit(f"No job worker of {socket.gethostname()} is running and registered in Redis.")
        click.echo(f"Job workers of this host: {', '.join(here)}.")
        return
    job_worker.work(client)


def _running(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    return True


@click.group(help="The audit trail of tool calls.")
def audit() -> None:
    pass


@audit.command("summary")
@click.option("--day", type=click.DateTime(formats=["%Y-%m-%d"]), required=True, help="A UTC day, YYYY-MM-DD.")
@with_appcontext
def audit_summary(day: datetime) -> None:
    """Per tool: calls, average and P95 duration, errors."""
    click.echo(f"{'tool':<28}{'calls':>8}{'avg ms':>10}{'p95 ms':>10}{'errors':>8}")
    for row in audit_trail.summary(day.date()):
        click.echo(f"{row['tool']:<28}{row['calls']:>8}{row['average_ms']:>10}{row['p95_ms']:>10}{row['errors']:>8}")


@audit.command("prune")
@click.option("--days", type=click.IntRange(min=1), help="Default: DRAWBRIDGE_AUDIT_RETENTION_DAYS (90).")
@with_appcontext
def audit_prune(days: int | None) -> None:
    """Remove records older than the retention period."""
    keep = days or current_settings().audit_retention_days
    click.echo(f"Removed {audit_trail.prune(keep)} audit records older than {keep} days.")


@audit.command("export")
@click.option("--since", type=click.DateTime(formats=MOMENT_FORMATS), required=True, help="From this UTC time, included.")
@click.option("--until", type=click.DateTime(formats=MOMENT_FORMATS), help="To this UTC time, excluded (default: now).")
@click.option("--client", "client_id", help="Only this client's calls.")
@click.option("--person", "subject", help="Only this person's calls (the token's subject).")
@click.option("--tool", help="Only calls of this tool.")
@click.option("--outcome", type=click.Choice(OUTCOMES), help="Only calls that ended so.")
@with_appcontext
def audit_export(since: datetime, until: datetime | None, client_id: str | None, subject: str | None, tool: str | None, outcome: str | None) -> None:
    """The audit records as CSV on standard output, newest first (authserver/audit_log.py)."""
    try:
        period = TimeRange(since.replace(tzinfo=timezone.utc), until.replace(tzinfo=timezone.utc) if until else utcnow())
    except UsageQueryError as error:
        raise click.UsageError(str(error)) from None
    for chunk in audit_log.export_csv(period, Filters(client_id, subject, tool, outcome)):
        click.echo(chunk, nl=False)


@audit.command("roll-up")
@with_appcontext
def audit_roll_up() -> None:
    """Add every closed hour not yet counted to the dashboard's hourly counts and latency
    histograms (after an upgrade, or from cron; pages add at most two days of them a read)."""
    now = utcnow()
    added = audit_hours.catch_up(now, max_hours=None)
    histograms = audit_hours.catch_up(now, max_hours=None, rollup=audit_latency.LATENCY)
    click.echo(f"Added {added} rows of hourly counts and {histograms} rows of latency histograms.")
