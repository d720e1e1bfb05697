"""How the operator commands print: lines and tables for people, one JSON document for scripts."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import click

#: `--json` on every command that lists, shows or creates something.
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of lines, for scripts.")


def print_json(value: Any) -> None:
    """`value` (dataclasses, lists, dicts; datetimes as ISO 8601) as one line of JSON on stdout."""
    click.echo(json.dumps(value, default=_plain))


def print_fields(fields: Mapping[str, Any]) -> None:
    """One `name: value` line each, the form `clients create` has always printed."""
    for name, value in fields.items():
        click.echo(f"{name}: {readable(value)}")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], empty: str) -> None:
    """Rows under their headers in aligned columns, or the sentence `empty` when there are none."""
    if not rows:
        click.echo(empty)
        return
    cells = [list(headers)] + [[readable(value) for value in row] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(headers))]
    for line in cells:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())


def readable(value: Any) -> str:
    """A value as a person reads it: times in UTC to the minute, lists space-separated, "-" for none."""
    if value is None or (isinstance(value, str | list | tuple | dict) and not value):
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):  # records (a client's secrets) apart with "; ", words with spaces
        return ("; " if any(isinstance(v, dict) for v in value) else " ").join(readable(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={readable(v)}" for k, v in value.items())
    return str(value)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")
