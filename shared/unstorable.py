"""Text the database cannot store: NUL, which PostgreSQL refuses in text and JSON, and unpaired
surrogates, which no UTF-8 encoder takes (RFC 3629 §3; RFC 8259 §8.2 calls such strings'
behaviour "unpredictable").

Both services ask here: the authorization server refuses such text from a request, the resource
server replaces it in audit rows (mcp_resource/guardrails/storable.py).
"""

from __future__ import annotations

import re
from typing import Any

# In a str, a character outside the BMP is one code point, so every surrogate in it is unpaired.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: str) -> bool:
    """Whether `value` holds neither a NUL nor a surrogate."""
    if value.isascii():  # the usual case: isascii() reads a flag, `in` is one scan
        return "\x00" not in value
    return UNSTORABLE.search(value) is None


def storable_json(document: Any) -> bool:
    """Whether every string of a parsed JSON document, names included, can be stored."""
    if isinstance(document, str):
        return storable(document)
    if isinstance(document, list):
        return all(storable_json(item) for item in document)
    if isinstance(document, dict):
        return all(storable(name) and storable_json(value) for name, value in document.items())
    return True
