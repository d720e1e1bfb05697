"""tools/call over Streamable HTTP: Drawbridge (guarded, and its unguarded twin), the official MCP
Python SDK, and bare Flask under gevent, interleaved round by round; then one MCP worker against two.

    .venv-bench/bin/python -m bench.tool_call [--rounds 3] [--seconds 8] [--connections 16 64] [--skip-scaling]

Every server runs pinned to core 0 and wrk to core 1 (the two-worker run uses both cores for the
server). Needs PostgreSQL and Redis (DATABASE_URL / REDIS_URL, else the local default ports), wrk,
and the peers' virtualenv, which bench/peers makes from the registries on first use. Prints JSON, with
each server's CPU time per request (Drawbridge's without its Redis and PostgreSQL) beside its req/s,
and for one worker and two the cores that went to the server, PostgreSQL, Redis and wrk.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

from bench import peers
from bench.common import (
    BIN,
    REPO,
    SERVER_CORE,
    cores_used,
    drawbridge,
    fetch_token,
    free_port,
    machine,
    new_session,
    pinned,
    stop,
    summarize,
    wait_healthy,
    wrk,
)

SCRIPT = "mcp_request.lua"


@contextmanager
def bare_flask() -> Iterator[tuple[str, int]]:
    port = free_port()
    command = [str(BIN / "gunicorn"), "-k", "gevent", "-w", "1", "--bind", f"127.0.0.1:{port}", "bench.peers.bare_flask:create_app()"]
    process = pinned(SERVER_CORE, command, cwd=REPO, stderr=subprocess.DEVNULL)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", "/")
        yield f"http://127.0.0.1:{port}/mcp", process.pid
    finally:
        stop([process])


@contextmanager
def sdk_server() -> Iterator[tuple[str, int]]:
    port = free_port()
    process = pinned(SERVER_CORE, [*peers.sdk_command(), "--port", str(port)], cwd=REPO, stderr=subprocess.DEVNULL)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", "/")
        yield f"http://127.0.0.1:{port}/mcp", process.pid
    finally:
        stop([process])


def compare(args: argparse.Namespace) -> dict[str, dict]:
    """Every target at every concurrency, round by round, so drift hits them all alike."""
    with drawbridge() as env, sdk_server() as (sdk_url, sdk_pid), bare_flask() as (flask_url, flask_pid):
        token = fetch_token(env)
        url, mcp_pid = env["DRAWBRIDGE_RESOURCE_URL"], int(env["BENCH_MCP_PID"])
        unguarded_url = url.replace("/mcp", "/bench/unguarded/mcp")
        targets = {
            "drawbridge 2026-07-28": (url, {"BENCH_ERA": "modern", "BENCH_TOKEN": token}, mcp_pid),
            "drawbridge 2025-11-25": (url, {"BENCH_ERA": "legacy", "BENCH_TOKEN": token, "BENCH_SESSION": new_session(url, token)}, mcp_pid),
            "drawbridge unguarded 2026-07-28": (unguarded_url, {"BENCH_ERA": "modern"}, mcp_pid),
            "sdk 2026-07-28": (sdk_url, {"BENCH_ERA": "modern"}, sdk_pid),
            "sdk 2025-11-25": (sdk_url, {"BENCH_ERA": "legacy"}, sdk_pid),
            "bare flask": (flask_url, {"BENCH_ERA": "modern"}, flask_pid),
            "bare flask, one yield": (f"{flask_url}-yield", {"BENCH_ERA": "modern"}, flask_pid),
        }
        for target_url, target_env, _ in targets.values():  # warm-up, and a check that each answers
            warm = wrk(target_url, SCRIPT, 2, 16, target_env)
            if warm["errors"]:
                raise SystemExit(f"{target_url} answered with errors during the warm-up: {warm}")
        runs: dict[str, list] = {f"{name} c={c}": [] for name in targets for c in args.connections}
        for _ in range(args.rounds):
            for c in args.connections:
                for name, (target_url, target_env, pid) in targets.items():
                    runs[f"{name} c={c}"].append(wrk(target_url, SCRIPT, args.seconds, c, target_env, pid))
                    time.sleep(0.5)
    return {name: summarize(results) for name, results in runs.items()}


def scaling(args: argparse.Namespace) -> dict[str, dict]:
    """The guarded 2026-07-28 call on one worker (core 0) and on two (cores 0-1), round by round,
    with the cores each party used: the two workers share the machine with wrk and the databases."""
    runs: dict[str, list] = {"1 worker": [], "2 workers": []}
    for _ in range(args.rounds):
        for workers, cores in ((1, SERVER_CORE), (2, "0,1")):
            with drawbridge(mcp_workers=workers, mcp_cores=cores) as env:
                url, pid = env["DRAWBRIDGE_RESOURCE_URL"], int(env["BENCH_MCP_PID"])
                target_env = {"BENCH_ERA": "modern", "BENCH_TOKEN": fetch_token(env)}
                wrk(url, SCRIPT, 2, 64, target_env)
                with cores_used(pid) as used:
                    result = wrk(url, SCRIPT, args.seconds, 64, target_env, pid)
                runs[f"{workers} worker{'s' if workers > 1 else ''}"].append(result | {"cores": used})
    return {name: summarize(results) for name, results in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--skip-scaling", action="store_true")
    args = parser.parse_args()
    peers.setup()
    report: dict = {"machine": machine(), "versions": peers.versions(), "compare": compare(args)}
    compared = report["compare"]
    for c in args.connections:
        report[f"ratios c={c}"] = {
            "guarded/unguarded 2026-07-28": round(compared[f"drawbridge 2026-07-28 c={c}"]["rps_median"] / compared[f"drawbridge unguarded 2026-07-28 c={c}"]["rps_median"], 3),
            "drawbridge/sdk 2026-07-28": round(compared[f"drawbridge 2026-07-28 c={c}"]["rps_median"] / compared[f"sdk 2026-07-28 c={c}"]["rps_median"], 3),
            "drawbridge/sdk 2025-11-25": round(compared[f"drawbridge 2025-11-25 c={c}"]["rps_median"] / compared[f"sdk 2025-11-25 c={c}"]["rps_median"], 3),
        }
    if not args.skip_scaling:
        report["scaling"] = scaling(args)
        report["scaling"]["2 workers / 1 worker"] = round(report["scaling"]["2 workers"]["rps_median"] / report["scaling"]["1 worker"]["rps_median"], 3)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
