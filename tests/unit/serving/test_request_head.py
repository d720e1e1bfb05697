"""Reading a request's header fields for gevent's handler (serving/request_head.py)."""

from __future__ import annotations

import io

import pytest

from serving import request_head


def read(head: bytes) -> request_head.RequestHeaders:
    return request_head.read_request("GET / HTTP/1.1\r\n", io.BytesIO(head + b"body that must stay unread")).headers


def test_fields_keep_their_order_and_are_found_in_any_case() -> None:
    headers = read(b"Host: example.org\r\nAccept: a/b\r\naccept: c/d\r\nContent-Type:  text/plain \r\n\r\n")

    assert headers.fields == [("Host", "example.org"), ("Accept", "a/b"), ("accept", "c/d"), ("Content-Type", "text/plain")]
    assert headers.get("ACCEPT") == "a/b"  # the first, as gevent's email parser answered
    assert headers.getheader("host") == "example.org"
    assert headers.typeheader == "text/plain"
    assert headers.get("Content-Length") is None
    assert headers.get("Content-Length", "0") == "0"


def test_reading_stops_at_the_blank_line() -> None:
    stream = io.BytesIO(b"Host: a\r\n\r\nPOST /next HTTP/1.1\r\n")
    request_head.read_request("GET / HTTP/1.1\r\n", stream)

    assert stream.read() == b"POST /next HTTP/1.1\r\n"


@pytest.mark.parametrize(
    ("received", "length"),
    [
        (b"Host: a\r\n\r\nPOST /next HTTP/1.1\r\n", 11),
        (b"Host: a\n\nbody", 9),
        (b"Host: a\r\nX: b\n\r\nbody", 16),
        (b"\r\nbody", 2),  # no fields at all
        (b"\nbody", 1),
        (b"Host: a\r\nX: b", -1),  # the rest of the head is still on its way
        (b"Host: a\r\n", -1),
        (b"", -1),
    ],
)
def test_a_head_received_whole_is_found_up_to_its_blank_line(received: bytes, length: int) -> None:
    assert request_head.field_section_length(received) == length


def test_a_head_received_whole_reads_as_from_the_stream() -> None:
    received = b"Host: a\r\nContent-Length: 4\r\n\r\nbodyPOST /next HTTP/1.1\r\n"
    found = request_head.read_received_request("POST / HTTP/1.1\r\n", received)

    assert found is not None
    head, length = found
    assert received[length:] == b"bodyPOST /next HTTP/1.1\r\n"
    streamed = request_head.read_request("POST / HTTP/1.1\r\n", io.BytesIO(received))
    assert (head.method, head.target, head.content_length, head.keep_alive) == (streamed.method, streamed.target, 4, True)
    assert head.headers.fields == streamed.headers.fields == [("Host", "a"), ("Content-Length", "4")]
    assert request_head.read_received_request("POST / HTTP/1.1\r\n", received[:20]) is None


def test_bare_line_feeds_end_lines_too() -> None:
    headers = read(b"Host: a\nX-Tab: one\ttwo\n\n")

    assert headers.fields == [("Host", "a"), ("X-Tab", "one\ttwo")]


def test_deleting_a_field_removes_every_line_of_that_name() -> None:
    headers = read(b"X-Trace: 1\r\nHost: a\r\nx-trace: 2\r\n\r\n")
    del headers["X-TRACE"]

    assert headers.get("X-Trace") is None
    assert headers.fields == [("Host", "a")]


def test_environ_names_leave_out_underscored_fields_and_the_handlers_own() -> None:
    headers = read(
        b"X-Request-Id: abc\r\nX_Request_Id: spoofed\r\nContent-Type: a/b\r\nContent-Length: 2\r\nMcp-Session-Id: s\r\nHost: a\r\n\r\n"
    )

    assert list(headers.environ_items()) == [("HTTP_X_REQUEST_ID", "abc"), ("HTTP_MCP_SESSION_ID", "s"), ("HTTP_HOST", "a")]


@pytest.mark.parametrize(
    ("head", "reason"),
    [
        (b"Host : a\r\n\r\n", "Malformed header field"),  # space before the colon (RFC 9112 5.1)
        (b"Host: a\r\n folded\r\n\r\n", "Malformed header field"),  # obs-fold
        (b"no colon here\r\n\r\n", "Malformed header field"),
        (b": no name\r\n\r\n", "Malformed header field"),
        (b"X-Null: a\x00b\r\n\r\n", "Malformed header field"),
        (b"X-Cr: a\rb\r\n\r\n", "Malformed header field"),
        (b"Content-Length: 1\r\ncontent-length: 2\r\n\r\n", "Repeated Content-Length"),
        (b"Content-Length: +1_0\r\n\r\n", "Content-Length is not a number"),  # int() would take it
        (b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", "Transfer-Encoding other than one chunked"),
        (b"Transfer-Encoding: gzip, chunked\r\n\r\n", "Transfer-Encoding other than one chunked"),
        (b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", "Both Content-Length and Transfer-Encoding"),
        (b"Host: a\r\n", "Header fields end before the blank line"),
    ],
)
def test_a_malformed_head_is_refused_with_a_reason(head: bytes, reason: str) -> None:
    with pytest.raises(request_head.RequestHeadError) as refused:
        read(b"Host: a\r\n" + head)

    assert (refused.value.status, refused.value.reason) == (400, reason)


@pytest.mark.parametrize(
    ("head", "reason"),
    [
        (b"X-Big: " + b"a" * 65536 + b"\r\n\r\n", "Header fields over 65536 bytes"),
        (b"".join(b"X-%d: a\r\n" % i for i in range(100)) + b"\r\n", "More than 100 header fields"),
    ],
)
def test_too_large_a_head_is_refused_with_431(head: bytes, reason: str) -> None:
    with pytest.raises(request_head.RequestHeadError) as refused:
        read(b"Host: a\r\n" + head)

    assert (refused.value.status, refused.value.reason) == (431, reason)


def test_one_chunked_transfer_coding_in_any_case_is_accepted() -> None:
    head = request_head.read_request("POST / HTTP/1.1\r\n", io.BytesIO(b"Host: a\r\nTransfer-Encoding: Chunked\r\n\r\n"))

    assert head.chunked and head.content_length is None and head.headers.get("transfer-encoding") == "Chunked"


def test_items_are_the_fields_as_sent_for_the_access_log() -> None:
    headers = read(b"Host: a\r\nUser-Agent: test/1\r\n\r\n")

    assert headers.items() == [("Host", "a"), ("User-Agent", "test/1")]


def test_one_hundred_fields_are_accepted() -> None:
    headers = read(b"Host: a\r\n" + b"".join(b"X-%d: a\r\n" % i for i in range(99)) + b"\r\n")

    assert len(headers.fields) == 100
