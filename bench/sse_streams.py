"""Hold N open SSE streams on one gevent worker and report the memory each costs.

    .venv-bench/bin/python -m bench.sse_streams --streams 10000 --kind listen   # or legacy-get, sse

Starts both services on a throwaway SQLite database (the embedded default), gets a token, opens
N `subscriptions/listen` streams (or legacy GET /mcp session streams, or 2024-11-05 GET /sse
streams) from one asyncio process, holds them while keep-alive comments flow, and reports the
worker's resident memory before and after, per stream, and how many streams saw a keep-alive on
time. All traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import BIN, REPO, fetch_token, free_port, new_session, wait_healthy

MODERN = "2026-07-28"
MAX_CAP = 1_000_000


def rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    if match is None:  # a kernel thread, or a process already a zombie
        raise RuntimeError(f"/proc/{pid}/status has no VmRSS line")
    return int(match.group(1))


def worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(children[0])


def start_services(workdir: Path, keepalive: int) -> tuple[dict[str, str], list[subprocess.Popen]]:
    auth_port, mcp_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "DRAWBRIDGE_ISSUER": f"http://127.0.0.1:{auth_port}",
        "DRAWBRIDGE_RESOURCE_URL": f"http://127.0.0.1:{mcp_port}/mcp",
        "DRAWBRIDGE_SSE_KEEPALIVE_SECONDS": str(keepalive),
        # One token holds every stream (and, for /sse, its session) here: lift the per-client caps.
        "DRAWBRIDGE_MAX_STREAMS_PER_CLIENT": str(MAX_CAP),
        "DRAWBRIDGE_MAX_SESSIONS_PER_CLIENT": str(MAX_CAP),
        "DRAWBRIDGE_LOG_LEVEL": "WARNING",
    }
    drawbridge = str(BIN / "drawbridge")
    for command in (["db", "upgrade"], ["keys", "ensure"]):
        subprocess.run([drawbridge, *command], env=env, check=True, capture_output=True)
    created = subprocess.run(
        [drawbridge, "clients", "create", "--name", "bench", "--scopes", "posts:read"], env=env, check=True, capture_output=True, text=True
    ).stdout
    env.update({f"BENCH_{k.upper()}": v for k, v in (line.split(": ", 1) for line in created.splitlines())})
    gunicorn = str(BIN / "gunicorn")
    processes = [
        subprocess.Popen([gunicorn, "-c", "deploy/gunicorn_authserver.py", "--bind", f"127.0.0.1:{auth_port}", "authserver:create_app()"], cwd=REPO, env=env),
        subprocess.Popen([gunicorn, "-c", "deploy/gunicorn_mcp.py", "--bind", f"127.0.0.1:{mcp_port}", "mcp_resource:create_app()"], cwd=REPO, env=env),
    ]
    wait_healthy(env["DRAWBRIDGE_ISSUER"])
    wait_healthy(f"http://127.0.0.1:{mcp_port}")
    return env, processes


def listen_request(port: int, token: str) -> bytes:
    meta = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "subscriptions/listen",
                       "params": {"notifications": {"toolsListChanged": True}, "_meta": meta}}).encode()
    head = (
        f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
        f"MCP-Protocol-Version: {MODERN}\r\nMcp-Method: subscriptions/listen\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def sse_endpoint_request(port: int, token: str) -> bytes:
    """2024-11-05: GET /sse opens the session's stream and names the endpoint to POST to."""
    return f"GET /sse HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n".encode()


def session_stream_request(port: int, token: str, session_id: str) -> bytes:
    return (
        f"GET /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Accept: text/event-stream\r\nMcp-Session-Id: {session_id}\r\n\r\n"
    ).encode()


class Stream:
    def __init__(self) -> None:
        self.keepalives = 0
        self.opened = False
        self.writer: asyncio.StreamWriter | None = None


async def hold(port: int, payload: bytes, stream: Stream, deadline: float, opened: asyncio.Semaphore) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    stream.writer = writer
    writer.write(payload)
    await writer.drain()
    try:
        while time.monotonic() < deadline:
            line = await asyncio.wait_for(reader.readline(), timeout=max(0.1, deadline - time.monotonic()))
            if not line:
                return
            if not stream.opened and (line.startswith(b"data: ") or line.startswith(b": keep-alive")):
                stream.opened = True
                opened.release()
            if line.startswith(b": keep-alive"):
                stream.keepalives += 1
    except (asyncio.TimeoutError, ConnectionError):
        return


async def run(args: argparse.Namespace, port: int, token: str, worker: int) -> dict:
    if args.kind == "legacy-get":
        payload = session_stream_request(port, token, new_session(f"http://127.0.0.1:{port}/mcp", token))
    elif args.kind == "sse":
        payload = sse_endpoint_request(port, token)
    else:
        payload = listen_request(port, token)
    baseline = rss_kib(worker)
    opened = asyncio.Semaphore(0)
    streams = [Stream() for _ in range(args.streams)]
    started = time.monotonic()
    deadline = started + args.open_seconds + args.hold
    tasks = []
    for stream in streams:
        tasks.append(asyncio.create_task(hold(port, payload, stream, deadline, opened)))
        await asyncio.sleep(0)
    for _ in range(args.streams):
        await asyncio.wait_for(opened.acquire(), timeout=args.open_seconds)
    open_time = time.monotonic() - started
    before_keepalives = [s.keepalives for s in streams]
    await asyncio.sleep(args.hold - 1)
    after = rss_kib(worker)
    on_time = sum(1 for s, b in zip(streams, before_keepalives, strict=True) if s.keepalives - b >= max(1, int(args.hold // args.keepalive) - 1))
    for stream in streams:
        if stream.writer:
            stream.writer.close()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "kind": args.kind,
        "streams": args.streams,
        "opened": sum(s.opened for s in streams),
        "seconds_to_open_all": round(open_time, 2),
        "keepalive_seconds": args.keepalive,
        "held_seconds": args.hold,
        "streams_with_keepalives_on_time": on_time,
        "worker_rss_kib_before": baseline,
        "worker_rss_kib_with_streams": after,
        "kib_per_stream": round((after - baseline) / args.streams, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, default=2000)
    parser.add_argument("--kind", choices=("listen", "legacy-get", "sse"), default="listen")
    parser.add_argument("--keepalive", type=int, default=5, help="server keep-alive interval, seconds")
    parser.add_argument("--hold", type=float, default=16.0, help="seconds to hold every stream open")
    parser.add_argument("--open-seconds", type=float, default=60.0, help="limit for opening them all")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        env, processes = start_services(Path(workdir), args.keepalive)
        try:
            token = fetch_token(env)
            port = int(env["DRAWBRIDGE_RESOURCE_URL"].split(":")[2].split("/")[0])
            result = asyncio.run(run(args, port, token, worker_pid(processes[1].pid)))
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=15)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
