"""JSON text parsed with a limit on nesting, as RFC 8259 section 9 allows ("An implementation may
set limits on the maximum depth of nesting")."""

from __future__ import annotations

import json
from typing import Any

# Far deeper than any MCP message or client metadata document, and far below the interpreter's
# recursion limit, which our own code (schema validation, the audit's json.dumps) shares.
MAX_DEPTH = 64


class NestedTooDeep(ValueError):
    """The JSON text nests arrays and objects deeper than MAX_DEPTH levels."""

    def __init__(self) -> None:
        super().__init__(f"nested deeper than {MAX_DEPTH} levels")


def loads(text: bytes) -> Any:
    """`json.loads`, refusing nesting past MAX_DEPTH with NestedTooDeep (a ValueError, as bad JSON is).

    Nesting past the recursion limit makes the C parser itself raise RecursionError, within
    microseconds. Nesting below that is measured on the parsed value, and only when the text has
    more than MAX_DEPTH brackets at all: two byte counts, so an ordinary message costs nothing more.
    """
    try:
        value = json.loads(text)
    except RecursionError:
        raise NestedTooDeep() from None
    if text.count(b"[") + text.count(b"{") > MAX_DEPTH and _deeper_than(value, MAX_DEPTH):
        raise NestedTooDeep()
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest past `limit` levels, level by level without recursion."""
    level = [value]
    for _ in range(limit + 1):
        containers = [v for v in level if isinstance(v, (dict, list))]
        if not containers:
            return False
        level = [child for c in containers for child in (c.values() if isinstance(c, dict) else c)]
    return True
