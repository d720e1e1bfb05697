"""The gunicorn worker both services run on: gevent's HTTP server with an idle timeout."""

from __future__ import annotations

import json
import select
import signal
import socket
import time

import pytest

from tests import live
from tests.conftest import ARTIFACTS, SHORT_KEEPALIVE_SECONDS, Live


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def read_response(connection: socket.socket) -> bytes:
    """One whole /healthz response (its JSON body ends the read)."""
    data = b""
    while not data.endswith(b"}\n"):
        chunk = connection.recv(4096)
        assert chunk, f"closed after {data!r}"
        data += chunk
    return data


def wait_until_closed(connection: socket.socket) -> tuple[float, bytes]:
    """When the server closed the connection (time.monotonic), and what it said before it did."""
    said = live.read_until_closed(connection)
    return time.monotonic(), said


def test_connections_silent_for_the_keepalive_time_are_closed(short_keepalive_auth_port: int) -> None:
    silent = connect(short_keepalive_auth_port)  # connects and says nothing (a slowloris, or a client that died)
    half_sent = connect(short_keepalive_auth_port)
    half_sent.sendall(live.HEALTH_REQUEST[:30])  # never finishes its headers
    finished = connect(short_keepalive_auth_port)
    finished.sendall(live.HEALTH_REQUEST)
    assert read_response(finished).startswith(b"HTTP/1.1 200")  # then stays idle, keep-alive
    silent_since = time.monotonic()
    closed = {}
    for name, connection in (("silent", silent), ("half_sent", half_sent), ("finished", finished)):
        with connection:
            closed_at, said = wait_until_closed(connection)
            closed[name] = (round(closed_at - silent_since, 2), said)
    assert all(SHORT_KEEPALIVE_SECONDS * 0.9 <= seconds < SHORT_KEEPALIVE_SECONDS + 2 for seconds, _ in closed.values()), closed
    assert closed["silent"][1] == closed["finished"][1] == b""
    assert closed["half_sent"][1].startswith(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n")


def test_a_connection_that_keeps_asking_stays_open_past_the_keepalive_time(short_keepalive_auth_port: int) -> None:
    with connect(short_keepalive_auth_port) as connection:
        deadline = time.monotonic() + 3 * SHORT_KEEPALIVE_SECONDS
        answered = 0
        while time.monotonic() < deadline:
            connection.sendall(live.HEALTH_REQUEST)
            assert read_response(connection).startswith(b"HTTP/1.1 200")
            answered += 1
            time.sleep(SHORT_KEEPALIVE_SECONDS / 2)
        assert answered >= 6


def test_a_stopping_worker_closes_its_idle_keep_alive_connections_at_once_then_exits(live_services: Live) -> None:
    """After SIGTERM a connection waiting for its next request is closed at once, as Go's
    Server.Shutdown and nginx close theirs, rather than kept until its keepalive runs out: a client
    or proxy sees the close before it reuses the connection, and opens a new one elsewhere. So the
    worker exits as soon as its calls in flight are done (tests/faults/test_graceful_stop.py)."""
    port = live.free_port()
    env = {**live_services.env, "GUNICORN_CMD_ARGS": "--keep-alive 30"}
    server = live.start(
        "authserver:create_app()", "deploy/gunicorn_authserver.py", port, env, ARTIFACTS / "authserver-stopping.log"
    )
    try:
        with connect(port) as connection:
            connection.sendall(live.HEALTH_REQUEST)
            assert read_response(connection).startswith(b"HTTP/1.1 200")
            server.process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            closed_at, said = wait_until_closed(connection)
        server.process.wait(timeout=10)

        assert said == b"" and closed_at - signalled < 1
        assert time.monotonic() - signalled < 3
    finally:
        server.stop()


def test_headers_trickled_a_byte_at_a_time_are_cut_off_after_the_keepalive_time(short_keepalive_auth_port: int) -> None:
    """Each byte arrives well within the silence limit, but the headers as a whole may not take longer."""
    with connect(short_keepalive_auth_port) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\n")
        started = time.monotonic()
        for byte in b"Host: 127.0.0.1\r\nX-Slow: " + b"a" * 40:
            connection.sendall(bytes([byte]))
            answered, _, _ = select.select([connection], [], [], SHORT_KEEPALIVE_SECONDS / 4)
            if answered or time.monotonic() - started > 3 * SHORT_KEEPALIVE_SECONDS:
                break
        closed_at, said = wait_until_closed(connection)

    assert said.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert closed_at - started < 2 * SHORT_KEEPALIVE_SECONDS


def test_a_stream_whose_client_stopped_reading_is_closed_after_the_keepalive_time_without_a_traceback(
    live_services: Live,
) -> None:
    """An SSE client that stops reading (suspended, or its network gone) leaves the server's writes
    blocked; after keepalive seconds the connection is closed with one log line, not a traceback."""
    port = live.free_port()
    log_path = ARTIFACTS / "mcp-stalled-reader.log"
    env = {**live_services.env, "GUNICORN_CMD_ARGS": f"--keep-alive {SHORT_KEEPALIVE_SECONDS}"}
    server = live.start("tests.serving.endless_stream:app", "deploy/gunicorn_mcp.py", port, env, log_path)
    try:
        with connect(port) as connection:
            connection.sendall(b"GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            time.sleep(SHORT_KEEPALIVE_SECONDS + 2)  # reads nothing while the server's writes block
            said = live.read_until_closed(connection)  # what was buffered, then the close
    finally:
        server.stop()

    assert said.startswith(b"HTTP/1.1 200 OK\r\n")
    log = log_path.read_text()
    assert "Traceback" not in log, log[-2000:]
    assert '"event": "response_write_timed_out"' in log


@pytest.mark.parametrize(
    "bad_field",
    [
        b"Host : 127.0.0.1",
        b"X-Folded: a\r\n b",
        b"Content-Length: 0\r\nContent-Length: 5",
        b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked",  # gevent read no body, then the chunks as a request
        b"Transfer-Encoding: chunked\r\nContent-Length: 5",
    ],
)
def test_a_malformed_header_field_is_answered_400_and_the_connection_closed(short_keepalive_auth_port: int, bad_field: bytes) -> None:
    with connect(short_keepalive_auth_port) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + bad_field + b"\r\n\r\n")
        said = live.read_until_closed(connection)

    assert said.startswith(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n")


def test_the_app_sees_dashed_header_names_and_never_their_underscored_twins(short_keepalive_auth_port: int) -> None:
    with connect(short_keepalive_auth_port) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: sent-by-the-client\r\n\r\n")
        dashed = read_response(connection)
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX_Request_Id: smuggled\r\n\r\n")
        underscored = read_response(connection)

    assert b"\r\nX-Request-Id: sent-by-the-client\r\n" in dashed
    assert b"smuggled" not in underscored and b"\r\nX-Request-Id: " in underscored


def test_requests_are_answered_and_logged_with_the_access_log_on(live_services: Live) -> None:
    """gunicorn's access log (DRAWBRIDGE_ACCESS_LOG=on) writes one JSON line per request, the
    request's header fields read through our request reader."""
    port = live.free_port()
    log_path = ARTIFACTS / "authserver-access-log.log"
    env = {**live_services.env, "DRAWBRIDGE_ACCESS_LOG": "on"}
    server = live.start("authserver:create_app()", "deploy/gunicorn_authserver.py", port, env, log_path)
    try:
        with connect(port) as connection:
            connection.sendall(live.HEALTH_REQUEST.replace(b"\r\n\r\n", b"\r\nUser-Agent: access-log-test\r\n\r\n"))
            answer = read_response(connection)
    finally:
        server.stop()

    assert answer.startswith(b"HTTP/1.1 200")
    log = log_path.read_text()
    assert "Traceback" not in log, log[-2000:]
    [line] = [json.loads(line) for line in log.splitlines() if '"user_agent": "access-log-test"' in line]
    assert (line["method"], line["path"], line["status"], line["user_agent"], line["service"]) == ("GET", "/healthz", 200, "access-log-test", "authserver")
    assert line["request_id"] == answer.split(b"X-Request-Id: ", 1)[1].split(b"\r\n", 1)[0].decode()
