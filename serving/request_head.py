"""A request's head, its request line and header fields, read and checked for gevent's HTTP handler (RFC 9112 sections 2-6).

gevent reads the fields with the standard library's email parser (http.client.parse_headers),
which costs 4-7% of a token or a tool call, and splits the request line on any whitespace. This
reads the same lines and is stricter where RFC 9112 lets a server be, as h11 and gunicorn's own
parser are (tests/unit/security/test_http_differential.py holds it to h11). Refused, and the
connection closed, instead of being guessed at: a request line other than `method SP target SP
HTTP/1.x`; a field name that is not a token directly followed by its colon, a folded line
(obs-fold), a control character in a value; more than 100 fields or 64 KiB of them (431); no Host
in HTTP/1.1, two Host fields or a malformed one (section 3.2); any body framing two parties could
read differently (section 6): a repeated or non-numeric Content-Length, a Transfer-Encoding other
than one `chunked`, both headers at once, or Transfer-Encoding in HTTP/1.0; and an Upgrade, which
neither service speaks and after which gevent would hand the app the raw connection.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

MAX_FIELDS = 100
MAX_FIELD_SECTION_BYTES = 65536  # every field line together; http.client allowed 64 KiB per line
MAX_CONTENT_LENGTH_DIGITS = 18  # below 2**63: int() is exact, and no body of ours comes near
TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
# RFC 9112 section 3: request-line = method SP request-target SP HTTP-version, one SP each; the
# target is printable ASCII (section 3.2, RFC 3986). A single LF may end it (section 2.2).
REQUEST_LINE = re.compile(rf"({TOKEN}) ([\x21-\x7e]+) HTTP/([0-9])\.([0-9])\r?\n")
FIELD_NAME = re.compile(TOKEN)
FIELD_VALUE_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
DIGITS = re.compile(r"[0-9]+")
# RFC 9110 section 7.2: Host = uri-host [ ":" port ], the characters of RFC 3986's host and port.
HOST_VALUE = re.compile(r"[A-Za-z0-9\-._~%!$&'()*+,;=:\[\]]*")
# Fields that frame or route the message: looked at once, in the pass that reads the lines.
FRAMING_FIELDS = frozenset({"content-length", "transfer-encoding", "host", "connection", "upgrade"})
END_OF_HEAD = (b"\r\n", b"\n")


class RequestHeadError(ValueError):
    """A request refused before the app sees it: the status to answer and why. The reason names
    what was wrong, never a value (a field may carry a credential)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, reason={self.reason!r})"


class RequestHeaders:
    """The fields in the order sent, and what gevent's handler asks of them: `get` (the first field
    of a name, any case), `typeheader`, `getheader` and `del`; and `items` for gunicorn's access log."""

    __slots__ = ("fields", "_first")

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        self.fields = fields
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


@dataclass(slots=True)
class RequestHead:
    """What the handler needs of a request's head: `version` is HTTP/1.0 or HTTP/1.1, and the body
    is `content_length` bytes, chunked, or absent (neither)."""

    method: str
    target: str
    version: str
    headers: RequestHeaders
    content_length: int | None
    chunked: bool
    keep_alive: bool


def read_request(request_line: str, rfile: BinaryIO) -> RequestHead:
    """The head whose request line (latin-1, with its line end) gevent has read, and whose fields
    follow in `rfile` up to the blank line; or RequestHeadError."""
    match = REQUEST_LINE.fullmatch(request_line)
    if match is None:
        # RFC 9112 section 3: "Recipients of an invalid request-line SHOULD respond with either a
        # 400 (Bad Request) error or a 301 (Moved Permanently) redirect"; parsing on other
        # whitespace is allowed but "can result in request smuggling".
        raise RequestHeadError(400, "Malformed request line")
    method, target, major, minor = match.groups()
    if major != "1":
        raise RequestHeadError(505, "HTTP version not supported")
    # Section 2.3: a higher minor version is processed "as if it were in the highest minor
    # version within that major version to which the recipient is conformant".
    version = "HTTP/1.0" if minor == "0" else "HTTP/1.1"
    fields, framing = read_fields(rfile)
    content_length, chunked, keep_alive = message_framing(version, framing)
    if content_length and method == "HEAD":
        raise RequestHeadError(400, "Content-Length on HEAD")  # as gevent: a HEAD has no body
    return RequestHead(method, target, version, RequestHeaders(fields), content_length, chunked, keep_alive)


def read_received_request(request_line: str, received: bytes) -> tuple[RequestHead, int] | None:
    """The head as `read_request` reads it, when its fields are whole in `received` (the bytes that
    arrived with the request line), and how many bytes of `received` it took; None when some of
    it is still to come. The same checks on the same lines: only where they come from differs."""
    length = field_section_length(received)
    if length < 0:
        return None
    return read_request(request_line, io.BytesIO(received[:length])), length


def field_section_length(received: bytes) -> int:
    """The length of the field lines at the start of `received` up to and with the empty line
    that ends them (CRLF or a bare LF, as `read_fields` reads it), or -1 when that line is not in it."""
    for blank_line in END_OF_HEAD:
        if received.startswith(blank_line):
            return len(blank_line)
    ends = [found + 1 + len(blank_line) for blank_line in END_OF_HEAD if (found := received.find(b"\n" + blank_line)) >= 0]
    return min(ends, default=-1)


def read_fields(rfile: BinaryIO, crlf_only: bool = False) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The field lines up to the blank line that ends them (a request's header section, or a
    chunked body's trailer section), and those of them that frame the message, by lower-case name.
    With `crlf_only`, a line ended by a bare LF is refused (RFC 9112 section 7.1.2: a trailer
    section's lines end with CRLF, and a recipient reading a bare LF otherwise would see another body)."""
    fields: list[tuple[str, str]] = []
    framing: list[tuple[str, str]] = []
    budget = MAX_FIELD_SECTION_BYTES
    while True:
        line = rfile.readline(budget + 1)
        if crlf_only and line.endswith(b"\n") and not line.endswith(b"\r\n"):
            raise RequestHeadError(400, "A trailer line ends with a bare LF")
        if line in END_OF_HEAD:
            return fields, framing
        budget -= len(line)
        # RFC 6585 section 5: 431 "can be used both when the set of request header fields in
        # total is too large, and when a single header field is at fault".
        if budget < 0:
            raise RequestHeadError(431, f"Header fields over {MAX_FIELD_SECTION_BYTES} bytes")
        if len(fields) == MAX_FIELDS:
            raise RequestHeadError(431, f"More than {MAX_FIELDS} header fields")
        if not line.endswith(b"\n"):
            raise RequestHeadError(400, "Header fields end before the blank line")
        name, colon, value = line[: -2 if line.endswith(b"\r\n") else -1].decode("latin-1").partition(":")
        value = value.strip(" \t")
        if not colon or not FIELD_NAME.fullmatch(name) or FIELD_VALUE_CONTROL.search(value):
            raise RequestHeadError(400, "Malformed header field")
        lowered = name.lower()
        if lowered in FRAMING_FIELDS:
            framing.append((lowered, value))
        fields.append((name, value))


def message_framing(version: str, framing: list[tuple[str, str]]) -> tuple[int | None, bool, bool]:
    """The body's Content-Length (or None), whether it is chunked, and whether the connection may
    serve another request; or RequestHeadError where the head could be read two ways (RFC 9112
    sections 3.2 and 6). gevent reads the first Transfer-Encoding to drop Content-Length but all
    of them, joined, to decide on chunked input, and keeps the connection open where section 6.1
    says to close it."""
    lengths: list[str] = []
    codings: list[str] = []
    connection: list[str] = []
    hosts = 0
    for name, value in framing:
        if name == "content-length":
            lengths.append(value)
        elif name == "transfer-encoding":
            codings.append(value)
        elif name == "host":
            hosts += 1
            if not HOST_VALUE.fullmatch(value):
                raise RequestHeadError(400, "Malformed Host")
        elif name == "connection":
            connection += [option.strip(" \t") for option in value.lower().split(",")]
        else:  # upgrade
            raise RequestHeadError(400, "Upgrade is not supported")
    if "upgrade" in connection:
        raise RequestHeadError(400, "Upgrade is not supported")
    # Section 3.2: "A server MUST respond with a 400 (Bad Request) status code to any HTTP/1.1
    # request message that lacks a Host header field and to any request message that contains
    # more than one Host header field line or a Host header field with an invalid field value."
    if hosts > 1:
        raise RequestHeadError(400, "More than one Host")
    if not hosts and version == "HTTP/1.1":
        raise RequestHeadError(400, "No Host")
    if len(lengths) > 1:
        raise RequestHeadError(400, "Repeated Content-Length")
    if lengths and not DIGITS.fullmatch(lengths[0]):
        raise RequestHeadError(400, "Content-Length is not a number")
    if lengths and len(lengths[0]) > MAX_CONTENT_LENGTH_DIGITS:
        raise RequestHeadError(413, "Content-Length too large")
    if len(codings) > 1 or (codings and codings[0].lower() != "chunked"):
        raise RequestHeadError(400, "Transfer-Encoding other than one chunked")
    if lengths and codings:
        raise RequestHeadError(400, "Both Content-Length and Transfer-Encoding")
    # Section 6.1: "A server or client that receives an HTTP/1.0 message containing a
    # Transfer-Encoding header field MUST treat the message as if the framing is faulty".
    if codings and version == "HTTP/1.0":
        raise RequestHeadError(400, "Transfer-Encoding in HTTP/1.0")
    keep_alive = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
    return (int(lengths[0]) if lengths else None), bool(codings), keep_alive
