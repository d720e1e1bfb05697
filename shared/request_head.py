"""A request's header fields, read and checked for gevent's HTTP handler (shared/gunicorn_workers.py).

gevent reads them with the standard library's email parser (http.client.parse_headers), which
costs 4-7% of a token or a tool call. This reads the same lines within the same limits, and is
stricter where RFC 9112 lets a server be. Refused with 400 instead of being guessed at: a field
name that is not a token directly followed by its colon, a folded line (obs-fold), a control
character in a value, and any body framing two parties could read differently (section 6): a
repeated or non-numeric Content-Length, a Transfer-Encoding other than one `chunked`, or both
headers at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

MAX_LINE_BYTES = 65536  # http.client's limits, which gevent applied
MAX_FIELDS = 100
FIELD_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
FIELD_VALUE_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
DIGITS = re.compile(r"[0-9]+")
END_OF_HEAD = (b"\r\n", b"\n")


class RequestHeaders:
    """The fields in the order sent, and what gevent's handler asks of them: `get` (the first field
    of a name, any case), `status` (why the head was refused, empty when it was not), `typeheader`,
    `getheader` and `del`; and `items` for gunicorn's access log."""

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

    def items(self) -> list[tuple[str, str]]:
        return list(self.fields)

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
    while True:
        line = rfile.readline(MAX_LINE_BYTES + 1)
        if len(line) > MAX_LINE_BYTES:
            return RequestHeaders([], "Header line too long")
        if line in END_OF_HEAD:
            problem = framing_problem(fields)
            return RequestHeaders([], problem) if problem else RequestHeaders(fields)
        if not line.endswith(b"\n"):
            return RequestHeaders([], "Header fields end before the blank line")
        if len(fields) == MAX_FIELDS:
            return RequestHeaders([], f"More than {MAX_FIELDS} header fields")
        name, colon, value = line[: -2 if line.endswith(b"\r\n") else -1].decode("latin-1").partition(":")
        value = value.strip(" \t")
        if not colon or not FIELD_NAME.fullmatch(name) or FIELD_VALUE_CONTROL.search(value):
            return RequestHeaders([], "Malformed header field")
        fields.append((name, value))


def framing_problem(fields: list[tuple[str, str]]) -> str:
    """Why the body's length could be read two ways (RFC 9112 section 6), or "" when it cannot.
    gevent reads the first Transfer-Encoding to drop Content-Length but all of them, joined, to
    decide on chunked input, and keeps the connection open where section 6.1 says to close it."""
    lengths = [value for name, value in fields if name.lower() == "content-length"]
    codings = [value for name, value in fields if name.lower() == "transfer-encoding"]
    if len(lengths) > 1:
        return "Repeated Content-Length"
    if lengths and not DIGITS.fullmatch(lengths[0]):
        return "Content-Length is not a number"
    if len(codings) > 1 or (codings and codings[0].lower() != "chunked"):
        return "Transfer-Encoding other than one chunked"
    if lengths and codings:
        return "Both Content-Length and Transfer-Encoding"
    return ""
