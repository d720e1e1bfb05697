"""What the guardrails cost: the same tool call with and without auth + rate limit + audit, on
the same server process, interleaved round by round.

    .venv/bin/python bench/guardrails.py [--rounds 3] [--seconds 10] [--connections 16]

Needs PostgreSQL and Redis (DATABASE_URL / REDIS_URL, else the local default ports) and wrk. The
MCP server runs one gevent worker pinned to core 0, wrk runs on core 1. The guarded call goes to
/mcp with a real token (JWT checked, revocation checked in Redis, rate limit in Redis, audit row
committed in PostgreSQL); the unguarded one to a bench-only route of the same process.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.sse_streams import BIN, REPO, fetch_token, free_port, wait_healthy  # noqa: E402

RESULT = re.compile(r"RESULT requests=(\d+) seconds=([\d.]+) p50_ms=([\d.]+) p99_ms=([\d.]+) non2xx_or_error=(\d+)")


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


def wrk(url: str, seconds: int, connections: int, token: str | None) -> dict[str, float]:
    env = {**os.environ, "BENCH_TOKEN": token or ""}
    command = ["taskset", "-c", "1", "wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(REPO / "bench/tool_call.lua"), url]
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    requests, duration, p50, p99, errors = RESULT.search(output).groups()
    return {"rps": int(requests) / float(duration), "p50_ms": float(p50), "p99_ms": float(p99), "errors": int(errors)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()

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
    }
    processes: list[subprocess.Popen] = []
    try:
        drawbridge = str(BIN / "drawbridge")
        for command in (["db", "upgrade"], ["keys", "ensure"]):
            subprocess.run([drawbridge, *command], env=env, check=True, capture_output=True)
        created = subprocess.run(
            [drawbridge, "clients", "create", "--name", "bench", "--scopes", "posts:read", "--rate-limit", "1000000000"],
            env=env, check=True, capture_output=True, text=True,
        ).stdout
        credentials = dict(line.split(": ", 1) for line in created.splitlines())
        gunicorn = str(BIN / "gunicorn")
        processes.append(subprocess.Popen(
            ["taskset", "-c", "1", gunicorn, "-c", "deploy/gunicorn_authserver.py", "--bind", f"127.0.0.1:{auth_port}", "authserver:create_app()"],
            cwd=REPO, env=env,
        ))
        processes.append(subprocess.Popen(
            ["taskset", "-c", "0", gunicorn, "-c", "deploy/gunicorn_mcp.py", "--bind", f"127.0.0.1:{mcp_port}", "bench.unguarded:create_app()"],
            cwd=REPO, env=env,
        ))
        wait_healthy(env["DRAWBRIDGE_ISSUER"])
        wait_healthy(f"http://127.0.0.1:{mcp_port}")
        token = fetch_token(env, credentials["client_id"], credentials["client_secret"])
        targets = {"unguarded": (f"http://127.0.0.1:{mcp_port}/bench/unguarded/mcp", None), "guarded": (env["DRAWBRIDGE_RESOURCE_URL"], token)}
        wrk(targets["guarded"][0], 2, args.connections, token)  # warm up both paths
        wrk(targets["unguarded"][0], 2, args.connections, None)
        rounds: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
        for _ in range(args.rounds):
            for name, (url, bearer) in targets.items():
                rounds[name].append(wrk(url, args.seconds, args.connections, bearer))
                time.sleep(1)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=15)
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    report = {}
    for name, results in rounds.items():
        rps = [r["rps"] for r in results]
        report[name] = {
            "rps_median": round(statistics.median(rps)),
            "rps_min": round(min(rps)),
            "rps_max": round(max(rps)),
            "p50_ms_median": statistics.median(r["p50_ms"] for r in results),
            "p99_ms_median": statistics.median(r["p99_ms"] for r in results),
            "non2xx_or_errors": sum(r["errors"] for r in results),
        }
    report["guarded_over_unguarded"] = round(report["guarded"]["rps_median"] / report["unguarded"]["rps_median"], 3)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
