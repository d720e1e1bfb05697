"""POST /token with client_credentials, ES256 JWT access tokens: Drawbridge's authorization server
against panva oidc-provider, interleaved round by round.

    .venv-bench/bin/python -m bench.token_endpoint [--rounds 3] [--seconds 8] [--connections 16 64]

Each server is pinned to core 0 and wrk to core 1; both issue a token for one resource (RFC 8707)
with one scope. A third target, Drawbridge's metadata document (GET, constant, through every hook
of the same process), is the ceiling of any endpoint on our stack. Needs PostgreSQL, Redis, wrk,
and npm for the peer (bench/peers). Prints JSON, with each server's CPU time per request beside
its req/s.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager

from bench import peers
from bench.common import REPO, SERVER_CORE, drawbridge, free_port, machine, pinned, stop, summarize, wait_healthy, wrk

SCRIPT = "token.lua"
CEILING_SCRIPT = "metadata.lua"
PEER_CLIENT = ("bench", "bench-secret-bench-secret-bench-secret")


def token_request(client_id: str, secret: str, resource: str) -> dict[str, str]:
    return {
        "BENCH_BASIC": base64.b64encode(f"{client_id}:{secret}".encode()).decode(),
        "BENCH_BODY": urllib.parse.urlencode({"grant_type": "client_credentials", "scope": "posts:read", "resource": resource}),
    }


@contextmanager
def oidc_provider(resource: str) -> Iterator[tuple[str, int]]:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "RESOURCE": resource}
    process = pinned(SERVER_CORE, peers.oidc_provider_command(), cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", "/.well-known/openid-configuration")
        yield f"http://127.0.0.1:{port}/token", process.pid
    finally:
        stop([process])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, nargs="+", default=[16, 64])
    args = parser.parse_args()
    peers.setup()
    with drawbridge() as env:
        resource = env["DRAWBRIDGE_RESOURCE_URL"]
        auth_pid = int(env["BENCH_AUTH_PID"])
        with oidc_provider(resource) as (peer_url, peer_pid):
            targets = {
                "drawbridge": (f"{env['DRAWBRIDGE_ISSUER']}/token", SCRIPT, token_request(env["BENCH_CLIENT_ID"], env["BENCH_CLIENT_SECRET"], resource), auth_pid),
                "oidc-provider": (peer_url, SCRIPT, token_request(*PEER_CLIENT, resource), peer_pid),
                "drawbridge metadata (stack ceiling)": (f"{env['DRAWBRIDGE_ISSUER']}/.well-known/oauth-authorization-server", CEILING_SCRIPT, {}, auth_pid),
            }
            for url, script, request_env, _ in targets.values():  # warm-up (JIT, caches), and a check that each answers
                warm = wrk(url, script, 3, 16, request_env)
                if warm["errors"]:
                    raise SystemExit(f"{url} answered with errors during the warm-up: {warm}")
            runs: dict[str, list] = {f"{name} c={c}": [] for name in targets for c in args.connections}
            for _ in range(args.rounds):
                for c in args.connections:
                    for name, (url, script, request_env, pid) in targets.items():
                        runs[f"{name} c={c}"].append(wrk(url, script, args.seconds, c, request_env, pid))
                        time.sleep(0.5)
    report: dict = {"machine": machine(), "versions": peers.versions(), **{name: summarize(r) for name, r in runs.items()}}
    for c in args.connections:
        peer = report[f"oidc-provider c={c}"]["rps_median"]
        report[f"drawbridge/oidc-provider c={c}"] = round(report[f"drawbridge c={c}"]["rps_median"] / peer, 3)
        report[f"stack ceiling/oidc-provider c={c}"] = round(report[f"drawbridge metadata (stack ceiling) c={c}"]["rps_median"] / peer, 3)
        # The same ratio from server CPU time per token (peer's / ours), which the host's noise moves less.
        report[f"cpu: oidc-provider/drawbridge c={c}"] = round(report[f"oidc-provider c={c}"]["cpu_us_per_request"] / report[f"drawbridge c={c}"]["cpu_us_per_request"], 3)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
