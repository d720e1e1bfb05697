"""What the guardrails cost: the same `echo` tools/call on one MCP server process, to /mcp with a
real token (JWT checked, revocation checked and rate limit counted in one Redis round trip, audit
row committed in PostgreSQL) and to its unguarded twin (the same /mcp code with those three
switched off, see bench/unguarded.py), interleaved round by round.

    .venv-bench/bin/python -m bench.guardrails [--rounds 3] [--seconds 8] [--connections 16]

Needs PostgreSQL and Redis (DATABASE_URL / REDIS_URL, else the local default ports) and wrk. The
MCP server runs one gevent worker pinned to core 0, wrk runs on core 1. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import time

from bench.common import drawbridge, fetch_token, machine, summarize, wrk

SCRIPT = "mcp_request.lua"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    with drawbridge() as env:
        url = env["DRAWBRIDGE_RESOURCE_URL"]
        targets = {
            "guarded": (url, {"BENCH_TOKEN": fetch_token(env)}),
            "unguarded": (url.replace("/mcp", "/bench/unguarded/mcp"), {}),
        }
        for target_url, target_env in targets.values():
            wrk(target_url, SCRIPT, 2, args.connections, target_env)  # warm up both paths
        runs: dict[str, list] = {name: [] for name in targets}
        for _ in range(args.rounds):
            for name, (target_url, target_env) in targets.items():
                runs[name].append(wrk(target_url, SCRIPT, args.seconds, args.connections, target_env, int(env["BENCH_MCP_PID"])))
                time.sleep(0.5)
    report = {"machine": machine(), "connections": args.connections, **{name: summarize(r) for name, r in runs.items()}}
    report["guarded_over_unguarded"] = round(report["guarded"]["rps_median"] / report["unguarded"]["rps_median"], 3)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
