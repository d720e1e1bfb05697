"""What a caller chose, made storable in an audit row: no NUL, no unpaired surrogate (RFC 8259 §8.2),
and arguments within a size cap.

PostgreSQL refuses NUL in text and in JSON, and an unpaired surrogate can be encoded neither as
UTF-8 (SQLite's driver refuses it) nor read from a JSON `\\uXXXX` escape (PostgreSQL refuses it). One
such row would fail the group commit it shares with other calls, so each becomes U+FFFD first.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

REPLACEMENT = "\ufffd"
# In a str, a character outside the BMP is one code point, so every surrogate in it is unpaired.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# In JSON written by json.dumps (ASCII, lower-case hex), left to right: an escaped backslash (taken
# whole, so the text after it is not read as an escape), a surrogate pair (6 + 6 characters, an
# emoji: kept), or a NUL or unpaired surrogate (6 characters: replaced).
_ESCAPES = re.compile(r"\\\\|\\ud[89ab][0-9a-f]{2}\\ud[c-f][0-9a-f]{2}|\\u(?:0000|d[89a-f][0-9a-f]{2})")
_UNSTORABLE_ESCAPE_CHARACTERS = 6


def is_storable(value: str) -> bool:
    """Whether `value` holds no NUL and no unpaired surrogate, so any database keeps it as it is."""
    if value.isascii():  # the usual case: isascii() reads a flag, `in` is one scan
        return "\x00" not in value
    return _UNSTORABLE.search(value) is None


def text(value: str) -> str:
    """`value` with U+FFFD in place of each NUL and surrogate."""
    return value if is_storable(value) else _UNSTORABLE.sub(REPLACEMENT, value)


@dataclass(frozen=True)
class Arguments:
    """A call's arguments as its audit row keeps them.

    `value` is the arguments object itself; or, past the cap, a JSON string holding the first
    `max_bytes` characters of their serialisation; or None when no values are kept. `size_bytes` is
    the length of that serialisation (compact JSON, ASCII, keys in the order sent), and `sha256` its
    hex digest, given only when `value` is a truncated copy.
    """

    value: Any
    size_bytes: int | None
    sha256: str | None


NONE = Arguments(None, None, None)


def arguments(given: Any, keep_values: bool, max_bytes: int) -> Arguments:
    """Serialised once: measured, cut at `max_bytes` or made storable, and parsed again only when
    a NUL or an unpaired surrogate had to be replaced (at most `max_bytes` of JSON)."""
    if not isinstance(given, dict):
        return NONE
    given, serialised = _serialised(given)
    size = len(serialised)  # ASCII: one byte a character
    if not keep_values:
        return Arguments(None, size, None)
    if size > max_bytes:
        # A string value: whatever the cut leaves (half an escape), it is stored as plain characters.
        return Arguments(serialised[:max_bytes], size, hashlib.sha256(serialised.encode()).hexdigest())
    if "\\u0000" not in serialised and "\\ud" not in serialised:
        return Arguments(given, size, None)
    cleaned = _ESCAPES.sub(lambda escape: REPLACEMENT if len(escape.group()) == _UNSTORABLE_ESCAPE_CHARACTERS else escape.group(), serialised)
    return Arguments(json.loads(cleaned), size, None)


def _serialised(given: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The arguments and their compact JSON. NaN and the infinities, which Python's json module
    reads but JSON (RFC 8259 §6) and PostgreSQL do not, become null."""
    try:
        return given, json.dumps(given, separators=(",", ":"), allow_nan=False)
    except ValueError:
        finite = json.loads(json.dumps(given), parse_constant=lambda _: None)
        return finite, json.dumps(finite, separators=(",", ":"))
