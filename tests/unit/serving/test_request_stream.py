"""A request body's stream as gevent's handler gives it to the app (serving/request_stream.py)."""

from __future__ import annotations

import io

import pytest

from serving.request_stream import BodyInput, ChunkedBodyError


def chunked(body: bytes) -> BodyInput:
    return BodyInput(io.BytesIO(body + b"GET /next HTTP/1.1\r\n"), None, chunked_input=True)


def test_a_chunked_body_with_extensions_and_trailers_is_read_whole_and_no_further() -> None:
    stream = chunked(b'5;name=value;q="a;b"\r\nhello\r\n6\r\n world\r\n0;last\r\nX-Checksum: 1\r\n\r\n')

    assert not stream.complete
    assert stream.read() == b"hello world"
    assert stream.complete
    assert stream.rfile.read() == b"GET /next HTTP/1.1\r\n"


def test_lines_are_read_across_chunks() -> None:
    stream = chunked(b"3\r\nab\n\r\n3\r\ncd\n\r\n0\r\n\r\n")

    assert [stream.readline(), stream.readline(), stream.readline()] == [b"ab\n", b"cd\n", b""]


def test_a_sized_body_is_complete_once_read_to_its_length() -> None:
    stream = BodyInput(io.BytesIO(b"hello, next"), 5)

    assert stream.read(3) == b"hel" and not stream.complete
    assert stream.read() == b"lo" and stream.complete


@pytest.mark.parametrize(
    "body",
    [
        b"5 \r\nhello\r\n0\r\n\r\n",  # whitespace after the size
        b"5 ;a\r\nhello\r\n0\r\n\r\n",  # BWS, which a sender must not generate
        b"5;a\nb\r\nhello\r\n0\r\n\r\n",  # bare LF inside the extension
        b"5;a\rb\r\nhello\r\n0\r\n\r\n",
        b"5\nhello\r\n0\r\n\r\n",
        b"5\r\nhelloX\r\n0\r\n\r\n",  # data longer than its size
        b"-5\r\nhello\r\n0\r\n\r\n",
        b"1" * 17 + b"\r\n",  # more than 64 bits of size
        b"0\r\nX: a\nb\r\n\r\n",  # bare LF inside a trailer
        b"0\r\nContent-Length: 5\r\n\r\n",  # a framing field as a trailer
        b"0\r\n\r",  # ends before the blank line
        b"5\r\nhel",
    ],
)
def test_a_malformed_chunked_body_is_refused(body: bytes) -> None:
    stream = chunked(body)

    with pytest.raises(ChunkedBodyError):
        stream.read()
    assert not stream.complete
