"""Secrets production must not start with: the example file's placeholders, short or repetitive values.

A heuristic, not an entropy meter: it catches what operators actually ship (the placeholder left in,
"x", "changeme", a row of one key) and lets through what `GENERATE_COMMAND` prints.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

PLACEHOLDER = re.compile(r"change[_-]?me", re.IGNORECASE)
MIN_CHARACTERS = 32
# secrets.token_urlsafe(32) has about 30 distinct characters in 43, secrets.token_hex(32) about 16.
MIN_DISTINCT_CHARACTERS = 10
GENERATE_COMMAND = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
# Variables whose values may carry a placeholder: ours, and the two standard URLs with passwords.
CHECKED_PREFIX = "DRAWBRIDGE_"
CHECKED_NAMES = ("DATABASE_URL", "REDIS_URL")


def weakness(value: str) -> str | None:
    """Why `value` is too guessable for a production secret, or None; never quotes the value."""
    if PLACEHOLDER.search(value):
        return "still holds the example file's placeholder"
    if len(value) < MIN_CHARACTERS:
        return f"is {len(value)} characters long, under {MIN_CHARACTERS}"
    if len(set(value)) < MIN_DISTINCT_CHARACTERS:
        return f"repeats {len(set(value))} distinct characters, under {MIN_DISTINCT_CHARACTERS}"
    return None


def secret_problems(secrets: Mapping[str, str]) -> list[str]:
    """One problem per weak secret, by variable name, saying how to make a good one."""
    return [
        f"{name} {reason}; generate one with: {GENERATE_COMMAND}"
        for name, value in secrets.items()
        if (reason := weakness(value))
    ]


def placeholder_problems(environ: Mapping[str, str], already_named: set[str]) -> list[str]:
    """Other variables that still hold a placeholder (a database password, a future setting)."""
    return [
        f"{name} still holds the example file's placeholder (CHANGE_ME); put the real value in."
        for name in sorted(environ)
        if (name.startswith(CHECKED_PREFIX) or name in CHECKED_NAMES)
        and name not in already_named
        and PLACEHOLDER.search(environ[name])
    ]
