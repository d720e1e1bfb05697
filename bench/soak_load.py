"""The soak's clients, as gevent greenlets in one process: paced tool calls in both eras, token
requests, refresh-token rotations, long jobs and open streams, each answer written to the Ledger.

A hand-written HTTP/1.1 client on keep-alive sockets: at a few thousand calls a second a general
HTTP library would need more than the one core the load generator has.
"""

from __future__ import annotations

import base64
import itertools
import json
import socket
import time
import urllib.error
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

import gevent

from bench.common import new_session
from bench.soak_ledger import STREAM_END, Answer, Ledger, outcome
from bench.sse_streams import listen_request

MODERN, LEGACY = "2026-07-28", "2025-11-25"
CALL_TIMEOUT_SECONDS = 15.0
LATE_SLOT_SECONDS = 1.0  # a call this late for its slot is skipped (and counted), not sent in a burst


class Wire:
    """One keep-alive connection to a port on 127.0.0.1, reopened after any failure."""

    def __init__(self, port: int, timeout: float = CALL_TIMEOUT_SECONDS) -> None:
        self.port, self.timeout = port, timeout
        self.sock: socket.socket | None = None
        self.buffer = b""

    def exchange(self, request: bytes) -> Answer:
        try:
            if self.sock is None:
                self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
                self.buffer = b""
            self.sock.sendall(request)
            answer = self._read()
        except BaseException:
            self.close()
            raise
        if answer.headers.get("connection", "").lower() == "close":
            self.close()
        return answer

    def _read(self) -> Answer:
        head = self._until(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = self._exactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while size := int(self._until(b"\r\n").split(b";")[0], 16):
                body += self._exactly(size)
                self._until(b"\r\n")
            self._until(b"\r\n")
        else:
            body = self._rest()
        return Answer(status, headers, body)

    def _fill(self) -> None:
        assert self.sock is not None
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionResetError("closed")
        self.buffer += chunk

    def _until(self, marker: bytes) -> bytes:
        while (end := self.buffer.find(marker)) < 0:
            self._fill()
        found, self.buffer = self.buffer[:end], self.buffer[end + len(marker):]
        return found

    def _exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        found, self.buffer = self.buffer[:size], self.buffer[size:]
        return found

    def _rest(self) -> bytes:
        try:
            while True:
                self._fill()
        except ConnectionResetError:
            found, self.buffer = self.buffer, b""
            self.close()
            return found

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def failure(error: BaseException) -> str:
    """A transport error as the ledger names it."""
    if isinstance(error, ConnectionRefusedError):
        return "refused"
    if isinstance(error, (TimeoutError, socket.timeout, gevent.Timeout)):
        return "timeout"
    return "reset"


def post(port: int, path: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", *(f"{k}: {v}" for k, v in headers.items()), f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def tool_call(port: int, token: str, request_id: str, tool: str, arguments: dict, session: str | None = None) -> bytes:
    """A tools/call in the 2026-07-28 era (stateless, `_meta` and mirrored headers), or in the
    2025-11-25 era on `session`."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": "application/json, text/event-stream", "X-Request-Id": request_id}
    params: dict = {"name": tool, "arguments": arguments}
    if session is None:
        params["_meta"] = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}
        headers.update({"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call", "Mcp-Name": tool})
    else:
        headers.update({"MCP-Protocol-Version": LEGACY, "Mcp-Session-Id": session})
    return post(port, "/mcp", headers, json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}).encode())


@dataclass
class Target:
    """Where the load goes, and the credentials it uses (the token is replaced as new ones come)."""

    auth_port: int
    mcp_port: int
    resource_url: str
    client_id: str
    client_secret: str
    token: str = ""
    sessions: list[str | None] = field(default_factory=list)

    @property
    def mcp_url(self) -> str:
        return f"http://127.0.0.1:{self.mcp_port}/mcp"

    def token_request(self) -> bytes:
        basic = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        form = urllib.parse.urlencode({"grant_type": "client_credentials", "resource": self.resource_url}).encode()
        return post(self.auth_port, "/token", {"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"}, form)


class Load:
    """The greenlets of one soak, started together and stopped together."""

    def __init__(self, target: Target, ledger: Ledger) -> None:
        self.target, self.ledger = target, ledger
        self.numbers = itertools.count()
        self.greenlets: list[gevent.Greenlet] = []
        self.skipped = 0
        self.open_streams = 0
        self.latencies_ms: list[float] = []  # of the answered tools/call
        self.running = True

    def spawn(self, function: Callable, *args: object) -> None:
        self.greenlets.append(gevent.spawn(function, *args))

    def stop(self) -> None:
        self.running = False
        gevent.joinall(self.greenlets, timeout=CALL_TIMEOUT_SECONDS + 2)
        gevent.killall(self.greenlets, timeout=5)

    def exchange(self, wire: Wire, kind: str, request: bytes, service: str, legacy: bool = False, request_id: str | None = None) -> Answer | None:
        """Send, read, and write the outcome down; None when no answer came. Only the MCP server
        answers in JSON-RPC."""
        sent = time.perf_counter()
        try:
            with gevent.Timeout(CALL_TIMEOUT_SECONDS):
                answer = wire.exchange(request)
        except (OSError, gevent.Timeout) as error:
            wire.close()
            self.ledger.record(kind, "down" if self.ledger.down(service) else failure(error), request_id)
            return None
        self.ledger.record(kind, outcome(answer, legacy, rpc=service == "mcp"), request_id)
        if request_id is not None:
            self.latencies_ms.append((time.perf_counter() - sent) * 1000)
        return answer

    def callers(self, rate: float, connections: int, legacy_share: float) -> None:
        """`connections` greenlets share one schedule of `rate` calls a second, every
        1/legacy_share-th call on a 2025-11-25 session."""
        start = gevent.get_hub().loop.now()
        slots = itertools.count()
        every = round(1 / legacy_share) if legacy_share else 0
        for lane in range(connections):
            self.spawn(self._caller, lane, rate, start, slots, every)

    def _caller(self, lane: int, rate: float, start: float, slots: itertools.count, every: int) -> None:
        wire = Wire(self.target.mcp_port)
        while self.running:
            slot = next(slots)
            due = start + slot / rate
            late = gevent.get_hub().loop.now() - due
            if late > LATE_SLOT_SECONDS:
                self.skipped += 1
                continue
            if late < 0:
                gevent.sleep(-late)
            legacy = bool(every) and slot % every == 0
            session = self._session(lane) if legacy else None
            if legacy and session is None:
                self.skipped += 1  # no session could be made just now (counted by _session)
                continue
            request_id = f"soak-{next(self.numbers)}"
            request = tool_call(self.target.mcp_port, self.target.token, request_id, "echo", {"text": "soak"}, session)
            answer = self.exchange(wire, "legacy" if legacy else "modern", request, "mcp", legacy, request_id)
            if answer is not None and legacy and outcome(answer, True) == "new-session":
                self.target.sessions[lane] = None

    def _session(self, lane: int) -> str | None:
        """This lane's 2025-11-25 session, initialized again after the server forgot it."""
        if self.target.sessions[lane] is None:
            try:
                self.target.sessions[lane] = new_session(self.target.mcp_url, self.target.token)
                self.ledger.record("initialize", "ok")
            except urllib.error.HTTPError as error:
                self.ledger.record("initialize", outcome(Answer(error.code, {k.lower(): v for k, v in error.headers.items()}, b"")))
                gevent.sleep(0.5)
            except urllib.error.URLError as error:
                self.ledger.record("initialize", failure(error.reason) if isinstance(error.reason, BaseException) else "reset")
                gevent.sleep(0.5)
            except OSError as error:
                self.ledger.record("initialize", failure(error))
                gevent.sleep(0.5)
        return self.target.sessions[lane]

    def tokens(self, every_seconds: float) -> None:
        """client_credentials requests; each new token is used by every call after it."""
        wire = Wire(self.target.auth_port)
        while self.running:
            answer = self.exchange(wire, "token", self.target.token_request(), "auth")
            if answer is not None and answer.status == 200:
                self.target.token = json.loads(answer.body)["access_token"]
            gevent.sleep(every_seconds)

    def refreshes(self, every_seconds: float, client_id: str, refresh_token: str, new_grant: Callable[[], str]) -> None:
        """A person's client rotating its refresh token; a refused one starts a new grant (counted)."""
        wire = Wire(self.target.auth_port)
        while self.running:
            form = urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}).encode()
            answer = self.exchange(wire, "refresh", post(self.target.auth_port, "/token", {"Content-Type": "application/x-www-form-urlencoded"}, form), "auth")
            if answer is not None and answer.status == 200:
                refresh_token = json.loads(answer.body)["refresh_token"]
            elif answer is not None and answer.status == 400:
                try:
                    refresh_token = new_grant()
                    self.ledger.record("new-grant", "ok")
                except Exception as error:  # the authorization server may be the fault: try again later
                    self.ledger.record("new-grant", type(error).__name__)
            gevent.sleep(every_seconds)

    def jobs(self, every_seconds: float, report: str) -> None:
        """run_report calls: each acknowledged one is a job whose row must end in a final state."""
        wire = Wire(self.target.mcp_port)
        while self.running:
            request_id = f"soak-{next(self.numbers)}"
            answer = self.exchange(wire, "job", tool_call(self.target.mcp_port, self.target.token, request_id, "run_report", {"report": report}), "mcp", request_id=request_id)
            if answer is not None and request_id in self.ledger.acknowledged:
                result = json.loads(answer.body)["result"]
                if not result.get("isError"):
                    self.ledger.job_ids.append(json.loads(result["content"][0]["text"])["job_id"])
            gevent.sleep(every_seconds)

    def streams(self, count: int, per_second: float) -> None:
        for _ in range(count):
            if not self.running:
                return
            self.spawn(self._stream)
            gevent.sleep(1 / per_second)

    def _stream(self) -> None:
        """A subscriptions/listen stream, held while it lasts and opened again when it ends."""
        while self.running:
            try:
                sock = socket.create_connection(("127.0.0.1", self.target.mcp_port), timeout=CALL_TIMEOUT_SECONDS)
            except OSError as error:
                self.ledger.record("stream-open", failure(error))
                gevent.sleep(1)
                continue
            try:
                sock.sendall(listen_request(self.target.mcp_port, self.target.token))
                head = sock.recv(65536)
                status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
                self.ledger.record("stream-open", "ok" if status == 200 else outcome(Answer(status, _headers(head), b"")) if status else "reset")
                if status == 200:
                    sock.settimeout(None)
                    self.open_streams += 1
                    try:
                        while self.running and sock.recv(65536):
                            pass
                    finally:
                        self.open_streams -= 1
                    if self.running:
                        self.ledger.record(STREAM_END, "closed")
            except OSError as error:
                self.ledger.record(STREAM_END, failure(error))
            finally:
                sock.close()
            gevent.sleep(1)


def _headers(head: bytes) -> dict[str, str]:
    lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]
    return {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
