"""`drawbridge keys ...`: list, rotate, ensure and rewrap token signing keys."""

from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import with_appcontext

from authserver import keys as signing_keys
from authserver.cli.output import json_option, print_json, print_table
from shared.app import current_settings
from shared.db import utcnow


@click.group(help="Manage token signing keys.")
def keys() -> None:
    pass


@keys.command("list")
@json_option
@with_appcontext
def list_keys(as_json: bool) -> None:
    """Every signing key, newest first: active (signs new tokens), retired (published until its
    tokens have expired), expired (no longer published) or unreadable (wrong key-encryption key)."""
    listed = signing_keys.summaries(current_settings().access_token_ttl_seconds)
    if as_json:
        print_json(listed)
        return
    now = utcnow()
    rows = [(k.kid, k.state, k.created_at, _age(now - k.created_at), k.retired_at, k.published_until) for k in listed]
    print_table(("KID", "STATE", "CREATED", "AGE", "RETIRED", "PUBLISHED UNTIL"), rows, "No signing keys; run `drawbridge keys ensure`.")


@keys.command("rotate")
@with_appcontext
def rotate() -> None:
    """Create a new ES256 signing key, signing new tokens on every worker within a second or two;
    the old one stays published until its tokens expire."""
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


def _age(elapsed: timedelta) -> str:
    """An age as a person reads it: the largest whole unit."""
    if elapsed >= timedelta(days=1):
        return f"{elapsed.days} d"
    if elapsed >= timedelta(hours=1):
        return f"{elapsed.seconds // 3600} h"
    return f"{elapsed.seconds // 60} min"
