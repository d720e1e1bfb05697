"""Request framing on both services' gunicorn workers (serving/request_head.py, serving/request_stream.py), over raw sockets.

Each refused request is answered once, with its status and `Connection: close`, and a request sent
after it on the same connection is never answered: what a front proxy took for the next request
cannot reach the app.
"""

from __future__ import annotations

import select
import socket
import time

import pytest

from tests import live
from tests.conftest import SHORT_KEEPALIVE_SECONDS, Live

FORM = b"Content-Type: application/x-www-form-urlencoded\r\n"


@pytest.fixture(params=["auth", "mcp"])
def server_url(request: pytest.FixtureRequest, live_services: Live) -> str:
    """Each service in turn: both run the same worker."""
    return getattr(live_services, request.param).url


def responses(said: bytes) -> int:
    return said.count(b"HTTP/1.1 ")


def assert_refused_alone(said: bytes, status: bytes) -> None:
    """One answer, the refusal, saying the connection closes; nothing for what came after."""
    head = said.split(b"\r\n\r\n", 1)[0]
    assert said.startswith(b"HTTP/1.1 " + status + b" "), said[:300]
    assert b"\r\nConnection: close" in head, head
    assert responses(said) == 1, said[:600]


def chunked_request(chunks: bytes, path: bytes = b"/token") -> bytes:
    return b"POST " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + FORM + b"Transfer-Encoding: chunked\r\n\r\n" + chunks


@pytest.mark.parametrize(
    "upgrade",
    [
        b"Connection: Upgrade\r\nUpgrade: websocket\r\n",
        b"Connection: keep-alive, upgrade\r\n",
        b"Upgrade: h2c\r\n",
    ],
    ids=["websocket", "connection-upgrade", "h2c"],
)
def test_an_upgrade_request_is_refused_before_its_body_is_read_twice(server_url: str, upgrade: bytes) -> None:
    """RFC 9110 section 7.8: a server "MAY ignore a received Upgrade header field"; neither service
    speaks another protocol, and gevent hands an upgrade request's app the raw connection, then reads
    the body again after the response, swallowing the start of the next request. So: refused."""
    body = b"grant_type=client_credentials"
    request = (
        b"POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\n" + FORM + upgrade + b"Content-Length: %d\r\n\r\n" % len(body) + body
    )
    said = live.exchange(server_url, request + live.HEALTH_REQUEST)

    assert_refused_alone(said, b"400")


@pytest.mark.parametrize(
    ("head", "status"),
    [
        (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n", b"400"),
        (b"GET /healthz HTTP/1.1\r\nAccept: */*\r\n\r\n", b"400"),
        (b"GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", b"400"),
        (b"GET\t/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", b"400"),
        (b"GET /healthz\x0bHTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", b"400"),
        (b"GET  /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", b"400"),
        (b"GET /healthz HTTP/1.1.1\r\nHost: 127.0.0.1\r\n\r\n", b"400"),
        (b"GET /healthz HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n", b"505"),
    ],
    ids=["two-host", "no-host", "http10-chunked-keepalive", "tab", "vertical-tab", "two-spaces", "http-1.1.1", "http-2.0"],
)
def test_an_ambiguous_head_is_refused_and_nothing_after_it_answered(server_url: str, head: bytes, status: bytes) -> None:
    """RFC 9112 section 3.2: "A server MUST respond with a 400 (Bad Request) status code to any
    HTTP/1.1 request message that lacks a Host header field and to any request message that contains
    more than one Host header field line". Section 6.1: an HTTP/1.0 message with Transfer-Encoding
    is treated "as if the framing is faulty ... and close the connection". Section 3: the request
    line's parts are separated by one SP; other whitespace "can result in request smuggling".
    RFC 9110 section 15.6.6: 505 for a major version the server does not support."""
    said = live.exchange(server_url, head + live.HEALTH_REQUEST)

    assert_refused_alone(said, status)


def test_a_head_of_six_megabytes_is_refused_with_431(server_url: str) -> None:
    """RFC 6585 section 5: 431 "can be used both when the set of request header fields in total is
    too large, and when a single header field is at fault". 99 fields of 60 KiB each passed the old
    per-line limit: a 6 MB head per connection."""
    field = b"X-Big: " + b"a" * 61440 + b"\r\n"
    with socket.create_connection(("127.0.0.1", int(server_url.rsplit(":", 1)[1])), timeout=5) as connection:
        try:
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + field * 99 + b"\r\n" + live.HEALTH_REQUEST)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused and closed while the rest was on its way
        said = read_until_closed_or_reset(connection)

    assert_refused_alone(said, b"431")


@pytest.mark.parametrize(
    "chunks",
    [
        b"3;ext\nGET /smuggled HTTP/1.1\r\nabc\r\n0\r\n\r\n",
        b"3\r\nabc\r\n0\r\nX-Trailer: a\nGET /smuggled HTTP/1.1\r\n\r\n",
        b"3\r\nabc\r\n0\r\nX-Trailer: a\n\r\n",
        b"3\r\nabc\r\n0\r\n\n",
    ],
    ids=["chunk-extension", "trailer", "trailer-line-end", "trailer-section-end"],
)
def test_a_bare_line_feed_inside_a_chunk_line_or_trailer_is_refused(live_services: Live, chunks: bytes) -> None:
    """RFC 9112 section 7.1: chunk = chunk-size [ chunk-ext ] CRLF, and a trailer field line ends
    with CRLF too; a bare LF inside either, which gevent skipped, is where a recipient that reads it
    as a line end sees a different body. 400 (the body could not be read), and the connection closed."""
    said = live.exchange(live_services.auth.url, chunked_request(chunks) + live.HEALTH_REQUEST)

    assert_refused_alone(said, b"400")
    assert b"invalid_request" in said


@pytest.mark.parametrize("framing", ["sized", "chunked"])
@pytest.mark.parametrize("path", [b"/token", b"/login"], ids=["token-endpoint", "login-form"])
def test_a_body_trickled_a_byte_at_a_time_is_cut_off_after_the_keepalive_time(short_keepalive_auth_port: int, framing: str, path: bytes) -> None:
    """RFC 9110 section 15.5.9: 408 when the server "did not receive a complete request message
    within the time that it was prepared to wait". Each byte arrives well within the silence limit,
    but the body as a whole may not take longer than keepalive seconds after the head: on the token
    endpoint and on a page's form alike (whose parser once met the cut-off as a 500)."""
    body = b"grant_type=client_credentials&scope=" + b"a" * 200
    if framing == "sized":
        request = b"POST " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + FORM + b"Content-Length: %d\r\n\r\n" % len(body) + body
    else:
        request = chunked_request(b"".join(b"1\r\n" + bytes([byte]) + b"\r\n" for byte in body) + b"0\r\n\r\n", path)
    head, rest = request.split(b"\r\n\r\n", 1)
    with socket.create_connection(("127.0.0.1", short_keepalive_auth_port), timeout=5) as connection:
        connection.sendall(head + b"\r\n\r\n")
        started = time.monotonic()
        for index in range(len(rest)):
            connection.sendall(rest[index : index + 1])
            answered, _, _ = select.select([connection], [], [], SHORT_KEEPALIVE_SECONDS / 4)
            if answered or time.monotonic() - started > 4 * SHORT_KEEPALIVE_SECONDS:
                break
        said = live.read_until_closed(connection)
        closed_after = time.monotonic() - started

    assert_refused_alone(said, b"408")
    assert closed_after < 2 * SHORT_KEEPALIVE_SECONDS + 1, closed_after


def test_a_413_before_an_expected_100_continue_closes_the_connection(live_services: Live) -> None:
    """RFC 9110 section 10.1.1: a server that "responds with a final status code before reading the
    entire request content SHOULD indicate whether it intends to close the connection ... or
    continue reading the request content". The client may never send a body it was refused, so
    whatever it sends next is no body: we close, and the request sent after it goes unanswered."""
    with socket.create_connection(("127.0.0.1", int(live_services.auth.url.rsplit(":", 1)[1])), timeout=5) as connection:
        connection.sendall(
            b"POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\n" + FORM + b"Expect: 100-continue\r\nContent-Length: 10000000\r\n\r\n"
        )
        answer = read_one_response(connection)
        connection.sendall(live.HEALTH_REQUEST)
        said = answer + read_until_closed_or_reset(connection)

    assert b"100 Continue" not in said
    assert_refused_alone(said, b"413")


def read_one_response(connection: socket.socket) -> bytes:
    """A response's head and as much body as its Content-Length says."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        assert chunk, f"closed after {data!r}"
        data += chunk
    head = data.split(b"\r\n\r\n", 1)[0]
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
    while len(data) < len(head) + 4 + length:
        data += connection.recv(65536)
    return data


def read_until_closed_or_reset(connection: socket.socket) -> bytes:
    """What the server sends until it closes the connection, or resets it for bytes it left unread."""
    said = bytearray()
    try:
        while chunk := connection.recv(65536):
            said += chunk
    except ConnectionResetError:
        pass
    return bytes(said)


def test_requests_sent_back_to_back_are_each_answered_once(server_url: str) -> None:
    """RFC 9112 section 9.3.2: a server "MUST send the corresponding responses in the same order
    that the requests were received". The worker reads a head, and a body, from the bytes that
    arrived with the request line: what follows them there is the next request, read as one."""
    said = live.exchange(server_url, live.HEALTH_REQUEST * 3)

    assert said.count(b"HTTP/1.1 200 OK\r\n") == responses(said) == 3, said[:600]


def test_a_request_sent_right_after_a_body_is_answered_after_it(live_services: Live) -> None:
    """As above, with a body between the two heads: the body is read to its Content-Length and no
    further, so the next request's line is not taken for part of it (RFC 9112 section 6.3)."""
    body = b"grant_type=client_credentials"
    token = b"POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\n" + FORM + b"Content-Length: %d\r\n\r\n" % len(body) + body

    said = live.exchange(live_services.auth.url, token + live.HEALTH_REQUEST)

    assert responses(said) == 2, said[:600]
    assert said.startswith(b"HTTP/1.1 401 ")  # no client credentials
    assert b"HTTP/1.1 200 OK\r\n" in said.split(b"HTTP/1.1 401 ", 1)[1]
