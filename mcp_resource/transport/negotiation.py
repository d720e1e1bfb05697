"""Content negotiation on /mcp: what a request's Content-Type and Accept headers allow.

A client sends the same two headers on every request, so each distinct value is parsed once by
werkzeug's parsers (their semantics unchanged) and remembered; the cache is bounded, so odd values
cannot grow it.
"""

from __future__ import annotations

from functools import lru_cache

from flask import request
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header, parse_options_header

HEADER_VALUES_REMEMBERED = 256
EVENT_STREAM = "text/event-stream"


def mimetype() -> str:
    """The body's media type, lowercased and without parameters, as `request.mimetype` gives it."""
    return _mimetype(request.headers.get("Content-Type", ""))


def accepts_json() -> bool:
    """An absent Accept takes anything; otherwise it must take application/json."""
    return _accepts(request.headers.get("Accept", ""))[0]


def accepts_event_stream() -> bool:
    return _accepts(request.headers.get("Accept", ""))[1]


@lru_cache(maxsize=HEADER_VALUES_REMEMBERED)
def _mimetype(content_type: str) -> str:
    return parse_options_header(content_type)[0].lower()


@lru_cache(maxsize=HEADER_VALUES_REMEMBERED)
def _accepts(accept: str) -> tuple[bool, bool]:
    parsed = parse_accept_header(accept, MIMEAccept)
    return (not parsed or parsed.accept_json), parsed[EVENT_STREAM] > 0
