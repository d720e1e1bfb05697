"""`drawbridge demo ...`: the demo domain's data."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from mcp_resource.demo.seed import seed as seed_demo_data


@click.group(help="The demo shop-and-blog domain.")
def demo() -> None:
    pass


@demo.command("seed")
@with_appcontext
def seed() -> None:
    """Add the demo data to an empty database (does nothing if it has data)."""
    added = seed_demo_data()
    click.echo(f"Added {added} demo posts." if added else "Demo data present; nothing to do.")
