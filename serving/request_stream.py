"""A request body's stream as gevent's handler gives it to the app (`wsgi.input`): chunked framing
read strictly (RFC 9112 section 7.1), and the whole body due within a deadline.

No Flask here: gunicorn imports this with the worker class, before gevent patches the standard
library, and Flask made then leaves a logging handler that breaks the worker's exit.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

import gevent
from gevent import pywsgi

from serving import request_head

if TYPE_CHECKING:  # annotations only: gunicorn loads this module before gevent patches socket
    from io import BufferedReader
    from socket import socket as Socket

MAX_CHUNK_LINE_BYTES = 4096
_QUOTED = rb'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"'
_TOKEN = request_head.TOKEN.encode()
# RFC 9112 section 7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF; and section 7.1.1:
# chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ), without the BWS, which
# "A sender MUST NOT generate" (RFC 9110 section 5.6.3) and h11 refuses before the ";". Nothing else
# on the line: gevent skipped whatever came between a ";" and the CR, a bare LF included.
CHUNK_LINE = re.compile(rb"([0-9A-Fa-f]{1,16})(?:;" + _TOKEN + rb"(?:=(?:" + _TOKEN + rb"|" + _QUOTED + rb"))?)*\r\n")


class ChunkedBodyError(OSError):
    """The chunked body is malformed: the rest of the connection cannot be read as requests."""


class BodyTimeoutError(TimeoutError):
    """The body did not arrive within its deadline (keepalive seconds after the head)."""

    def __init__(self) -> None:
        super().__init__("body unfinished at its deadline")


class BodyInput(pywsgi.Input):
    """gevent's request body stream (`wsgi.input`), with chunked framing read strictly, the whole
    body due within `timeout_seconds` of the head however slowly it trickles in, and `complete`
    telling whether it was read to its end.

    A response before the whole body closes the connection (serving/worker.py), so there
    is never a rest to discard: gevent's discard would read a body the app refused (a 413 of any
    size), or, after `Expect: 100-continue` went unanswered, wait for one the client may never send."""

    __slots__ = ("deadline",)

    def __init__(
        self,
        rfile: BufferedReader,
        content_length: int | None,
        socket: Socket | None = None,
        chunked_input: bool = False,
        timeout_seconds: float | None = None,
    ) -> None:
        super().__init__(rfile, content_length, socket=socket, chunked_input=chunked_input)
        self.deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds

    @property
    def complete(self) -> bool:
        if self.chunked_input:
            return self.chunk_length == 0  # set once the last chunk and the trailer section are read
        return self.position >= (self.content_length or 0)

    def read(self, length: int | None = None) -> bytes:
        if self.deadline is None:
            return super().read(length)
        with _timer(self.deadline):
            return super().read(length)

    def readline(self, size: int | None = None) -> bytes:
        if self.deadline is None:
            return super().readline(size)
        with _timer(self.deadline):
            return super().readline(size)

    def _discard(self) -> None:
        return None

    def _chunked_read(self, length: int | None = None, use_readline: bool = False) -> bytes:
        self._send_100_continue()  # type: ignore[attr-defined]  # gevent's own, private: not in types-gevent
        read = self.rfile.readline if use_readline else self.rfile.read
        parts = []
        while self.chunk_length != 0 and length != 0:
            left = self.chunk_length - self.position
            if left <= 0:  # at the start of a chunk (chunk_length is -1 before the first)
                self.chunk_length = self._read_chunk_size()
                self.position = 0
                continue
            data = read(left if length is None else min(left, length))
            if not data:
                raise ChunkedBodyError("Chunked body ends early")
            parts.append(data)
            self.position += len(data)
            if self.position == self.chunk_length and self.rfile.read(2) != b"\r\n":
                raise ChunkedBodyError("Chunk data not followed by CRLF")
            if length is not None:
                length -= len(data)
            if use_readline and data.endswith(b"\n"):
                break
        return b"".join(parts)

    def _read_chunk_size(self) -> int:
        match = CHUNK_LINE.fullmatch(self.rfile.readline(MAX_CHUNK_LINE_BYTES + 1))
        if match is None:
            raise ChunkedBodyError("Malformed chunk-size line")
        size = int(match[1], 16)
        if size == 0:
            try:
                _, framing = request_head.read_fields(self.rfile, crlf_only=True)
            except request_head.RequestHeadError as error:
                raise ChunkedBodyError(f"Trailer section: {error.reason}") from error
            # RFC 9110 section 6.5.1: fields that frame or route a message cannot be processed
            # after the content; a sender "MUST NOT generate a trailer field unless ... permits".
            if framing:
                raise ChunkedBodyError("Framing field in the trailer section")
        return size


def _timer(deadline: float) -> gevent.Timeout:
    """One timer for a whole read: the socket's own timeout restarts with every byte."""
    # The class, not an instance: it is made only when the deadline passes, not on every read.
    return gevent.Timeout(max(deadline - time.monotonic(), 0), BodyTimeoutError)
