"""`drawbridge keys ...`: rotate, ensure and rewrap token signing keys."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from authserver import keys as signing_keys


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
