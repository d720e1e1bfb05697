"""Both services as real processes: gunicorn with the gevent worker, on free ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT_SECONDS = 30

HEALTH_REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def reserve_port() -> socket.socket:
    """A socket bound to a free port, not listening: while it is open no other socket here is
    given that port, so a server started long after the port was chosen still finds it free.
    Close it just before starting the server."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def crash(self) -> None:
        """kill -9 the master and its workers: nothing graceful, as when a machine dies."""
        kill_with_children(self.process.pid)
        self.process.wait()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown: no wait for idle keep-alives
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def read_until_closed(connection: socket.socket) -> bytes:
    """Everything the server sends on a connection until it closes it."""
    said = bytearray()
    while chunk := connection.recv(65536):
        said += chunk
    return bytes(said)


def exchange(server_url: str, raw: bytes) -> bytes:
    """Raw bytes to a live server, then nothing more (our side closes for sending); everything it
    answers until it closes the connection."""
    port = int(server_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(raw)
        connection.shutdown(socket.SHUT_WR)
        return read_until_closed(connection)


def start(app: str, config: str, port: int, env: dict[str, str], log_path: Path) -> LiveServer:
    """Start gunicorn with the repo's config for `app` and wait until /healthz answers 200."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("wb")
    command = [sys.executable, "-m", "gunicorn", "-c", str(REPO / config), "--bind", f"127.0.0.1:{port}", app]
    process = subprocess.Popen(command, cwd=REPO, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    server = LiveServer(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{app} exited at start; see {log_path}:\n{log_path.read_text()[-3000:]}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{app} did not become healthy in {START_TIMEOUT_SECONDS}s; see {log_path}")


def start_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """`drawbridge worker`: runs queued jobs (it needs no port and is ready when it says so)."""
    log = log_path.open("wb")
    drawbridge = Path(sys.executable).parent / "drawbridge"
    return subprocess.Popen([str(drawbridge), "worker"], cwd=REPO, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    """kill -9 a worker and its work-horse: the test is over. SIGTERM would wait for the job
    running (rq's warm shutdown), and up to 60 s on an idle worker (rq's pubsub thread)."""
    if worker.poll() is None:
        kill_with_children(worker.pid)
    worker.wait()


def kill_with_children(pid: int) -> None:
    """kill -9 a process and its children (a gunicorn master and its workers, an rq worker and its
    work-horse), as when a machine dies."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:  # it has exited
        return
    for victim in [pid, *map(int, children)]:
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            pass
