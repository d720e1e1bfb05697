"""Where a server's CPU goes under load: py-spy samples the worker while wrk drives one target.

    .venv-bench/bin/python -m bench.profile TARGET [--seconds 20] [--connections 16] [--top 25]

TARGET is one of `token` (POST /token, client_credentials), `tools-call` (guarded 2026-07-28),
`tools-call-legacy` (guarded 2025-11-25, in a session), `unguarded` (the same call with the
guardrails off, bench/unguarded.py) or `metadata` (the authorization server's constant metadata
document: the stack's ceiling). The server runs pinned to core 0 and wrk to core 1, as in the other
benches, with py-spy (`make bench-env` installs it) beside wrk, attached to the worker for the run.

Prints JSON: the samples, and for the functions with the most samples the share of the worker's
busy time spent in them (inclusive: with what they call) and in them alone (self). Idle time, the
hub waiting for sockets, is not sampled; nor, since py-spy reads the worker without pausing it, are
the samples it could not read whole, so the shares are of fewer samples than seconds x rate, and
a stack read while it changed may lack its outer frames (the outermost functions' inclusive shares
are low by that much; the 'frame read while it changed' entry says how often). The raw stacks go
to bench/profiles/TARGET.txt in the collapsed format that speedscope and flamegraph.pl read.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import time
from collections import Counter
from pathlib import Path

from bench.common import BIN, LOAD_CORE, REPO, children, drawbridge, fetch_token, machine, new_session, pinned, wrk
from bench.token_endpoint import token_request

PROFILES = REPO / "bench" / "profiles"
SAMPLES_PER_SECOND = 250
# A collapsed frame as py-spy writes it: "function (path/to/file.py:line)".
FRAME = re.compile(r"^(?P<function>.*) \((?P<path>[^():]*\.py|<[^>]*>):\d+\)$")
# Without pausing the worker, py-spy sometimes reads a frame while the interpreter changes it.
UNREADABLE = "(frame read while it changed)"


def target(name: str, env: dict[str, str]) -> tuple[str, str, dict[str, str], str]:
    """The URL, wrk script, its environment and the pid of the server process behind one target."""
    mcp_url, auth_url = env["DRAWBRIDGE_RESOURCE_URL"], env["DRAWBRIDGE_ISSUER"]
    if name == "token":
        form = token_request(env["BENCH_CLIENT_ID"], env["BENCH_CLIENT_SECRET"], mcp_url)
        return f"{auth_url}/token", "token.lua", form, env["BENCH_AUTH_PID"]
    if name == "metadata":
        return f"{auth_url}/.well-known/oauth-authorization-server", "metadata.lua", {}, env["BENCH_AUTH_PID"]
    if name == "unguarded":
        return mcp_url.replace("/mcp", "/bench/unguarded/mcp"), "mcp_request.lua", {"BENCH_ERA": "modern"}, env["BENCH_MCP_PID"]
    token = fetch_token(env)
    if name == "tools-call":
        return mcp_url, "mcp_request.lua", {"BENCH_ERA": "modern", "BENCH_TOKEN": token}, env["BENCH_MCP_PID"]
    legacy = {"BENCH_ERA": "legacy", "BENCH_TOKEN": token, "BENCH_SESSION": new_session(mcp_url, token)}
    return mcp_url, "mcp_request.lua", legacy, env["BENCH_MCP_PID"]


def worker_pid(master_pid: str) -> str:
    """The one worker of a gunicorn master (the benches run one)."""
    workers = children(int(master_pid))
    if len(workers) != 1:
        raise SystemExit(f"expected one worker under gunicorn {master_pid}, found {workers}")
    return str(workers[0])


def record(pid: str, seconds: int, output: Path) -> subprocess.Popen:
    """py-spy on the load core, reading the worker without pausing it (--nonblocking), so the profile
    slows what it measures as little as it can."""
    options = ["--duration", str(seconds), "--rate", str(SAMPLES_PER_SECOND), "--format", "raw", "--nonblocking"]
    command = [str(BIN / "py-spy"), "record", "--pid", pid, *options, "--output", str(output)]
    return pinned(LOAD_CORE, command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def summarize_stacks(collapsed: str, top: int) -> dict:
    """Inclusive and self shares of every function, from py-spy's collapsed stacks."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():  # a name read while it changed can hold a line break
            continue
        samples = int(count)
        frames = [describe(frame) for frame in stack.split(";")]
        total += samples
        own[frames[-1]] += samples
        for frame in set(frames):  # a recursive function counts once per sample
            inclusive[frame] += samples

    def shares(counter: Counter[str]) -> dict[str, float]:
        return {frame: round(100 * samples / total, 1) for frame, samples in counter.most_common(top)}

    return {"samples": total, "inclusive_percent": shares(inclusive), "self_percent": shares(own)}


def describe(frame: str) -> str:
    """`module.py:function`, with the path cut to what follows site-packages or the repository."""
    match = FRAME.match(frame)
    if match is None:
        return UNREADABLE
    path = match["path"].split("site-packages/")[-1].removeprefix(f"{REPO}/")
    return f"{path}:{match['function']}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", choices=["token", "metadata", "tools-call", "tools-call-legacy", "unguarded"])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    PROFILES.mkdir(exist_ok=True)
    output = PROFILES / f"{args.target}.txt"
    with drawbridge() as env:
        url, script, script_env, master = target(args.target, env)
        wrk(url, script, 2, args.connections, script_env)  # warm up
        profiler = record(worker_pid(master), args.seconds, output)
        time.sleep(0.5)  # py-spy attaches
        load = wrk(url, script, args.seconds - 1, args.connections, script_env, int(master))
        _, errors = profiler.communicate(timeout=args.seconds + 30)
        if profiler.returncode != 0:
            raise SystemExit(f"py-spy failed: {errors.strip()}")
    report = {"machine": machine(), "target": args.target, "connections": args.connections, "load": load}
    report |= {"raw_stacks": str(output.relative_to(REPO)), **summarize_stacks(output.read_text(), args.top)}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
