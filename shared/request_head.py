"""A request's header fields, read and checked for gevent's HTTP handler (shared/gunicorn_workers.py).

gevent reads them with the standard library's email parser (http.client.parse_headers), which
costs 5-7% of a token or a tool call. This reads the same lines within the same limits, and is
stricter where RFC 9112 section 5 lets a server be: a field name must be a token directly followed
by its colon, and folded lines (obs-fold), control characters in a value and a repeated
Content-Length are refused (400) instead of being guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

MAX_LINE_BYTES = 65536  # http.client's limits, which gevent applied
MAX_FIELDS = 100
FIELD_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
FIELD_VALUE_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
END_OF_HEAD = (b"\r\n", b"\n")


class RequestHeaders:
    """The fields in the order sent, and what gevent's handler asks of them: `get` (the first field
    of a name, any case), `status` (why the head was refused, empty when it was not), `typeheader`,
    `getheader` and `del`."""

    __slots__ = ("fields", "status", "_first")

    def __init__(self, fields: list[tuple[str, str]], status: str = "") -> None:
        self.fields = fields
        self.status = status
        self._first: dict[str, str] = {}
        for name, value in fields:
            self._first.setdefault(name.lower(), value)

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._first.get(name.lower(), default)

    getheader = get

    @property
    def typeheader(self) -> str | None:
        return self._first.get("content-type")

    def __delitem__(self, name: str) -> None:
        lowered = name.lower()
        self.fields = [(field, value) for field, value in self.fields if field.lower() != lowered]
        self._first.pop(lowered, None)

    def environ_items(self) -> Iterator[tuple[str, str]]:
        """CGI names and values (HTTP_*) as gevent makes them: a name with an underscore is left
        out (it would pass for its dashed twin), and Content-Type and Content-Length are the
        handler's own."""
        for name, value in self.fields:
            if "_" in name:
                continue
            key = name.replace("-", "_").upper()
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                yield "HTTP_" + key, value


def read(rfile: BinaryIO) -> RequestHeaders:
    """The header fields up to the blank line that ends them, or a refusal in `status`."""
    fields: list[tuple[str, str]] = []
    has_length = False
    while True:
        line = rfile.readline(MAX_LINE_BYTES + 1)
        if len(line) > MAX_LINE_BYTES:
            return RequestHeaders([], "Header line too long")
        if line in END_OF_HEAD:
            return RequestHeaders(fields)
        if not line.endswith(b"\n"):
            return RequestHeaders([], "Header fields end before the blank line")
        if len(fields) == MAX_FIELDS:
            return RequestHeaders([], f"More than {MAX_FIELDS} header fields")
        name, colon, value = line[: -2 if line.endswith(b"\r\n") else -1].decode("latin-1").partition(":")
        value = value.strip(" \t")
        if not colon or not FIELD_NAME.fullmatch(name) or FIELD_VALUE_CONTROL.search(value):
            return RequestHeaders([], "Malformed header field")
        if name.lower() == "content-length":
            if has_length:
                return RequestHeaders([], "Repeated Content-Length")
            has_length = True
        fields.append((name, value))
