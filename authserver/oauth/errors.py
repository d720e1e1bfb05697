"""Error descriptions safe to send: RFC 6749 5.2 allows only %x20-21 / %x23-5B / %x5D-7E."""

from __future__ import annotations


def describe(text: str) -> str:
    """`text` with every character the RFC forbids (quotes, backslashes, non-ASCII) replaced by '?'."""
    return "".join(c if (" " <= c <= "~" and c not in '"\\') else "?" for c in text)
