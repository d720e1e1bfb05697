"""Our request reader (serving/request_head.py, serving/request_stream.py) against h11: whatever h11 refuses, ours refuses too.

RFC 9112 section 11.2: "Request smuggling ... is a technique that exploits differences in protocol
parsing among various recipients". A proxy in front of us that parses like h11 must never see one
request where we see another: so every request h11 refuses, ours refuses (ours may refuse more).
The requests are a corpus of malformed and smuggling shapes, and a hypothesis stream of near-valid
requests (valid ones mutated in the request line, the fields, the framing and the chunks).
"""

from __future__ import annotations

import io

import h11
import pytest
from gevent import pywsgi
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serving import request_head
from serving.request_stream import BodyInput

# h11 refuses heads over 16 KiB by default; ours allows 64 KiB of fields (431 past that), a size
# limit and not a reading of the grammar, so h11 gets room for any head ours would take.
H11_MAX_INCOMPLETE_EVENT_BYTES = 1 << 20


def h11_refuses(raw: bytes) -> bool:
    """True unless h11, as a server, reads one whole request (head and body) from `raw` then EOF."""
    connection = h11.Connection(h11.SERVER, max_incomplete_event_size=H11_MAX_INCOMPLETE_EVENT_BYTES)
    connection.receive_data(raw)
    connection.receive_data(b"")
    try:
        while True:
            event = connection.next_event()
            if isinstance(event, h11.EndOfMessage) or event is h11.PAUSED:  # PAUSED: an Upgrade it would hand over
                return False
            if event is h11.NEED_DATA or isinstance(event, h11.ConnectionClosed):
                return True
    except h11.RemoteProtocolError:
        return True


def ours_refuses(raw: bytes) -> bool:
    """True unless our reader, called as gevent's handler calls it, reads one whole request from
    `raw`; read both ways the worker reads a head, which must agree."""
    from_stream, from_received = stream_refuses(raw), received_refuses(raw)
    assert from_stream == from_received, f"read from the stream: {from_stream}, from what was received: {from_received}"
    return from_stream


def stream_refuses(raw: bytes) -> bool:
    """The head read line by line from the connection (request_head.read_request)."""
    rfile = io.BytesIO(raw)
    request_line = rfile.readline(pywsgi.MAX_REQUEST_LINE).decode("latin-1")  # gevent's read_requestline
    try:
        head = request_head.read_request(request_line, rfile)
        BodyInput(rfile, head.content_length, chunked_input=head.chunked).read()
    except (request_head.RequestHeadError, OSError):
        return True
    return False


def received_refuses(raw: bytes) -> bool:
    """The head read from the bytes that arrived with the request line, here all of `raw`
    (request_head.read_received_request, the worker's first try); from the stream when those hold
    only part of it."""
    request_line = io.BytesIO(raw).readline(pywsgi.MAX_REQUEST_LINE).decode("latin-1")
    received = raw[len(request_line) :]
    try:
        found = request_head.read_received_request(request_line, received)
        if found is None:
            return stream_refuses(raw)
        head, head_length = found
        BodyInput(io.BytesIO(received[head_length:]), head.content_length, chunked_input=head.chunked).read()
    except (request_head.RequestHeadError, OSError):
        return True
    return False


VALID = {
    "get": b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n",
    "get 1.0 without host": b"GET / HTTP/1.0\r\n\r\n",
    "post sized": b"POST /token HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
    "post chunked": b"POST /mcp HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
    "bare lf field lines": b"GET / HTTP/1.1\nHost: a\nAccept: */*\n\n",
}

MALFORMED = {
    # The gaps.
    "two host": b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    "no host in 1.1": b"GET / HTTP/1.1\r\nAccept: */*\r\n\r\n",
    "tab separator": b"GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n",
    "vertical tab separator": b"GET /\x0bHTTP/1.1\r\nHost: a\r\n\r\n",
    "form feed separator": b"GET\x0c/ HTTP/1.1\r\nHost: a\r\n\r\n",
    "bare cr separator": b"GET\r/ HTTP/1.1\r\nHost: a\r\n\r\n",
    "two spaces": b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
    "version 1.1.1": b"GET / HTTP/1.1.1\r\nHost: a\r\n\r\n",
    "http 0.9 line": b"GET /\r\n\r\n",
    "bare lf in chunk extension": b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;a\nb\r\nabc\r\n0\r\n\r\n",
    "bare lf in trailer": b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: a\nb\r\n\r\n",
    # Classic smuggling shapes (CL.TE, TE.CL, TE.TE with an obfuscated coding).
    "cl te": b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG",
    "te cl": b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n",
    "te xchunked": b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
    "te space before colon": b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
    "te folded": b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n",
    "te twice": b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: cow\r\n\r\n0\r\n\r\n",
    "te vertical tab": b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n",
    "cl twice": b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    "cl hex": b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\nhello",
    "cl negative": b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
    "cl with space": b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 1\r\n\r\nhello world",
    "body shorter than cl": b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\nhello",
    "chunk size hex prefix": b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
    "chunk size too long": b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + b"f" * 21 + b"\r\n",
    "chunk data without crlf": b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n",
    "no last chunk": b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
    "chunk line bare lf": b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n",
    "trailer without colon": b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nnot a field\r\n\r\n",
    "trailer content-length": b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nContent-Length: x\r\n\r\n",
    "nul in value": b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n",
    "bare cr in value": b"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n",
    "space in target": b"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n",
    "leading whitespace field": b"GET / HTTP/1.1\r\n Host: a\r\n\r\n",
    "leading empty line": b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "unfinished head": b"GET / HTTP/1.1\r\nHost: a\r\n",
}


@pytest.mark.parametrize("raw", list(VALID.values()), ids=list(VALID))
def test_valid_requests_are_read_by_both(raw: bytes) -> None:
    """The comparison below means something only if both readers take a well-formed request."""
    assert not h11_refuses(raw)
    assert not ours_refuses(raw)


@pytest.mark.parametrize("raw", list(MALFORMED.values()), ids=list(MALFORMED))
def test_every_malformed_request_h11_refuses_ours_refuses(raw: bytes) -> None:
    """RFC 9112 section 11.2: smuggling "exploits differences in protocol parsing among various
    recipients". What h11 refuses, ours refuses; the corpus holds only shapes one of them refuses."""
    assert ours_refuses(raw), "our reader took a request h11 refuses" if h11_refuses(raw) else "corpus case nobody refuses"


def sometimes(draw: st.DrawFn, usual: bytes, odd: list[bytes]) -> bytes:
    """`usual` fifteen times in sixteen, else one of `odd`: most requests stay near valid."""
    return draw(st.sampled_from(odd)) if draw(st.integers(0, 15)) == 0 else usual


ODD_BYTES = [b" ", b"\t", b"\x00", b"\x0b", b"\x0c", b"\r", b"\n", b"\x7f", b"\x80", b"\xff", b",", b";", b'"']
ODD_LINE_ENDS = [b"\n", b"\r", b"\r\r\n", b"\n\r", b""]


@st.composite
def near_valid_requests(draw: st.DrawFn) -> bytes:
    """A valid request, some of whose parts are swapped for odd ones."""
    end = sometimes(draw, b"\r\n", [b"\n"])  # the line end of the head; a single LF is allowed
    method = sometimes(draw, draw(st.sampled_from([b"GET", b"POST", b"HEAD", b"OPTIONS"])), [b"G\x00T", b"GE T", b"", b"G(T"])
    target = draw(st.sampled_from([b"/", b"/mcp?x=1", b"http://a/b", b"*", b"/a%20b"])) + sometimes(draw, b"", ODD_BYTES)
    separators = [sometimes(draw, b" ", [b"\t", b"  ", b"\x0b", b"\x0c", b"\r", b""]) for _ in range(2)]
    version = sometimes(
        draw, draw(st.sampled_from([b"HTTP/1.1", b"HTTP/1.0"])), [b"HTTP/1.1.1", b"HTTP/2.0", b"http/1.1", b"HTTP/1.10", b"HTTP/ 1.1", b"HTTP/1.2"]
    )
    head = method + separators[0] + target + separators[1] + version + sometimes(draw, end, ODD_LINE_ENDS)

    framing = sometimes(draw, draw(st.sampled_from([b"none", b"length", b"chunked"])), [b"both"]).decode()
    body = draw(st.binary(max_size=12))
    fields = [] if draw(st.integers(0, 7)) == 0 else [(b"Host", sometimes(draw, b"a:80", [b"a b", b"a/b", b"", b"[::1]"]))]
    if framing in ("length", "both"):
        declared = sometimes(draw, str(len(body)).encode(), [str(len(body) + 1).encode(), b"0x1", b"+1", b"1,1", b" ", b"9" * 21])
        fields.append((b"Content-Length", declared))
    if framing in ("chunked", "both"):
        fields.append((b"Transfer-Encoding", sometimes(draw, b"chunked", [b"Chunked", b"chunked, chunked", b"gzip", b"chunked ,", b"identity"])))
    extra_names = [b"Host", b"Content-Length", b"Transfer-Encoding", b"Connection", b"Upgrade", b"Expect", b"Accept", b"X_Odd"]
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(extra_names)) + sometimes(draw, b"", ODD_BYTES)
        value = draw(st.sampled_from([b"a", b"chunked", b"5", b"close", b"keep-alive", b"upgrade", b"100-continue", b"*/*"]))
        fields.insert(draw(st.integers(0, len(fields))), (name, value + sometimes(draw, b"", ODD_BYTES)))
    for name, value in fields:
        head += name + sometimes(draw, b": ", [b":", b" : ", b":\t", b"\t:"]) + value + sometimes(draw, end, ODD_LINE_ENDS)
    head += sometimes(draw, end, ODD_LINE_ENDS)

    if framing in ("chunked", "both"):
        for chunk in draw(st.lists(st.binary(min_size=1, max_size=5), max_size=3)):
            size = sometimes(draw, b"%x" % len(chunk), [b"%X" % (len(chunk) + 1), b"0%x" % len(chunk), b"%x " % len(chunk), b"-1"])
            extension = sometimes(draw, draw(st.sampled_from([b"", b";a", b";a=b", b';a="q;"'])), [b";", b";=b", b";a\nb", b";a\rb", b" ;a", b"; a = b"])
            head += size + extension + b"\r\n" + chunk + sometimes(draw, b"\r\n", [b"\n", b"", b"\r\r\n"])
        last = b"0" + sometimes(draw, b"", [b";a", b"0", b";a\nb"]) + b"\r\n"
        trailer = sometimes(draw, b"", [b"X-T: 1\r\n", b"X-T: a\nb\r\n", b"Content-Length: 5\r\n", b"no colon\r\n", b" folded\r\n", b"X-T: 1\n"])
        return head + last + trailer + sometimes(draw, b"\r\n", [b"\n", b""])
    return head + body


@settings(max_examples=400, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(near_valid_requests())
def test_every_near_valid_request_h11_refuses_ours_refuses(raw: bytes) -> None:
    """RFC 9112 section 11.2, as above, over requests generated near the valid ones (derandomized,
    so every run checks the same ones)."""
    if h11_refuses(raw):
        assert ours_refuses(raw)
