"""What every bench script shares: ports, services, wrk runs pinned to a core, and the statistics."""

from __future__ import annotations

import base64
import json
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SERVER_CORE, LOAD_CORE = "0", "1"
RESULT = re.compile(r"RESULT requests=(\d+) seconds=([\d.]+) p50_ms=([\d.]+) p99_ms=([\d.]+) non2xx_or_error=(\d+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, path: str = "/healthz") -> None:
    for _ in range(150):
        try:
            with urllib.request.urlopen(f"{url}{path}", timeout=1):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not start")


def pinned(core: str, command: list[str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen(["taskset", "-c", core, *command], **kwargs)


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=15)


def wrk(url: str, script: str, seconds: int, connections: int, env: dict[str, str], server_pid: int | None = None) -> dict[str, float]:
    """One wrk run from the load core; the Lua script prints the RESULT line. With the server's pid,
    also the server's CPU time per request, which the host's noise (CPU steal on a shared VM) moves
    far less than req/s."""
    command = ["taskset", "-c", LOAD_CORE, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(REPO / "bench" / script), url]
    cpu_before = cpu_seconds(server_pid) if server_pid else 0.0
    output = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, check=True).stdout
    requests, duration, p50, p99, errors = RESULT.search(output).groups()  # type: ignore[union-attr]
    result = {"rps": int(requests) / float(duration), "p50_ms": float(p50), "p99_ms": float(p99), "errors": int(errors)}
    if server_pid:
        result["cpu_us"] = (cpu_seconds(server_pid) - cpu_before) / int(requests) * 1e6
    return result


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process, its threads and its child processes (gunicorn's workers)."""
    total = sum(cpu_ticks(Path(f"/proc/{one}/stat").read_text()) for one in [pid, *children(pid)])
    return total / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The child processes of a process, started by any of its threads."""
    return [int(child) for task in Path(f"/proc/{pid}/task").iterdir() for child in (task / "children").read_text().split()]


def cpu_ticks(stat: str) -> int:
    """utime + stime from a /proc/PID/stat line (fields 14 and 15 of proc(5), after the command name)."""
    fields = stat.rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])


@contextmanager
def cores_used(server_pid: int) -> Iterator[dict[str, float]]:
    """How many cores, on average over the block, went to the server, PostgreSQL, Redis and the
    load generator (this process's children that ended in the block: wrk), and how many idled."""
    before, start = cpu_by_party(server_pid), time.monotonic()
    cores: dict[str, float] = {}
    yield cores
    after, elapsed = cpu_by_party(server_pid), time.monotonic() - start
    cores.update({party: round((after[party] - before[party]) / elapsed, 2) for party in after})


def cpu_by_party(server_pid: int) -> dict[str, float]:
    """CPU seconds so far, per party of a bench run (idle: the machine's idle time, all cores)."""
    clock = os.sysconf("SC_CLK_TCK")
    by_name: Counter[str] = Counter()
    for path in Path("/proc").glob("[0-9]*/stat"):
        try:
            stat = path.read_text()
        except OSError:  # the process has ended
            continue
        by_name[stat.partition("(")[2].rpartition(")")[0]] += cpu_ticks(stat)
    load_generator = resource.getrusage(resource.RUSAGE_CHILDREN)
    machine_times = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    return {
        "server": cpu_seconds(server_pid),
        "postgresql": by_name["postgres"] / clock,
        "redis": by_name["redis-server"] / clock,
        "wrk": load_generator.ru_utime + load_generator.ru_stime,
        "idle": (int(machine_times[3]) + int(machine_times[4])) / clock,  # idle and iowait
    }


def summarize(runs: list[dict]) -> dict:
    """Median of the rounds with min-max, the median p50 and p99, and every error counted; the
    median CPU time per request and cores used per party where the runs measured them."""
    rps = [r["rps"] for r in runs]
    summary = {
        "rps_median": round(statistics.median(rps)),
        "rps_min": round(min(rps)),
        "rps_max": round(max(rps)),
        "p50_ms": round(statistics.median(r["p50_ms"] for r in runs), 2),
        "p99_ms": round(statistics.median(r["p99_ms"] for r in runs), 2),
        "errors": int(sum(r["errors"] for r in runs)),
        "rounds": len(runs),
    }
    if all("cpu_us" in r for r in runs):
        summary["cpu_us_per_request"] = round(statistics.median(r["cpu_us"] for r in runs))
    if all("cores" in r for r in runs):
        summary["cores_used"] = {party: statistics.median(r["cores"][party] for r in runs) for party in runs[0]["cores"]}
    return summary


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


@contextmanager
def drawbridge(mcp_app: str = "bench.unguarded:create_app()", mcp_workers: int = 1, mcp_cores: str = SERVER_CORE) -> Iterator[dict[str, str]]:
    """Both services on a throwaway PostgreSQL database with Redis, and a client allowed posts:read
    with no effective rate limit. Yields the environment plus the client's credentials."""
    import psycopg

    server_url = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    database = f"drawbridge_bench_{os.getpid()}"
    admin = psycopg.connect(server_url, autocommit=True)
    admin.execute(f'CREATE DATABASE "{database}"')
    auth_port, mcp_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": with_database(server_url, database),
        "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/14",
        "DRAWBRIDGE_ISSUER": f"http://127.0.0.1:{auth_port}",
        "DRAWBRIDGE_RESOURCE_URL": f"http://127.0.0.1:{mcp_port}/mcp",
        "DRAWBRIDGE_LOG_LEVEL": "WARNING",
        "DRAWBRIDGE_MCP_WORKERS": str(mcp_workers),
    }
    processes: list[subprocess.Popen] = []
    try:
        tool = str(BIN / "drawbridge")
        for command in (["db", "upgrade"], ["keys", "ensure"]):
            subprocess.run([tool, *command], env=env, check=True, capture_output=True)
        created = subprocess.run(
            [tool, "clients", "create", "--name", "bench", "--scopes", "posts:read", "--rate-limit", "1000000000"],
            env=env, check=True, capture_output=True, text=True,
        ).stdout
        env.update({f"BENCH_{k.upper()}": v for k, v in (line.split(": ", 1) for line in created.splitlines())})
        gunicorn = str(BIN / "gunicorn")
        processes.append(pinned(SERVER_CORE, [gunicorn, "-c", "deploy/gunicorn_authserver.py", "--bind", f"127.0.0.1:{auth_port}", "authserver:create_app()"], cwd=REPO, env=env))
        processes.append(pinned(mcp_cores, [gunicorn, "-c", "deploy/gunicorn_mcp.py", "--bind", f"127.0.0.1:{mcp_port}", mcp_app], cwd=REPO, env=env))
        wait_healthy(env["DRAWBRIDGE_ISSUER"])
        wait_healthy(f"http://127.0.0.1:{mcp_port}")
        env["BENCH_AUTH_PID"], env["BENCH_MCP_PID"] = str(processes[0].pid), str(processes[1].pid)
        yield env
    finally:
        stop(processes)
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def fetch_token(env: dict[str, str]) -> str:
    """A client_credentials token for the bench client, bound to the MCP server."""
    data = urllib.parse.urlencode({"grant_type": "client_credentials", "resource": env["DRAWBRIDGE_RESOURCE_URL"]}).encode()
    request = urllib.request.Request(f"{env['DRAWBRIDGE_ISSUER']}/token", data=data)
    request.add_header("Authorization", "Basic " + base64.b64encode(f"{env['BENCH_CLIENT_ID']}:{env['BENCH_CLIENT_SECRET']}".encode()).decode())
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["access_token"]


def new_session(url: str, token: str) -> str:
    """A 2025-11-25 session on Drawbridge (its legacy era is stateful): initialize, then initialized."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    initialize = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}}
    with urllib.request.urlopen(urllib.request.Request(url, data=json.dumps(initialize).encode(), headers=headers), timeout=10) as response:
        session = response.headers["Mcp-Session-Id"]
    initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    headers.update({"Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-11-25"})
    urllib.request.urlopen(urllib.request.Request(url, data=json.dumps(initialized).encode(), headers=headers), timeout=10).close()
    return session


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), "?")
    return f"{os.cpu_count()} cores ({cpu}), Python {sys.version.split()[0]} ({os.path.realpath(sys.executable)})"
