"""A bounded mixed soak under one fault a minute, then what the clients saw against the audit table
and the job rows (issue #19).

    .venv-bench/bin/python -m bench.soak --minutes 10 [--rate 3000] [--faults redis-restart,...]

Runs the whole stack (authorization server, two MCP workers, the job worker: all pinned to core 0)
on a redis-server and a PostgreSQL cluster of its own (tests/faults/servers.py), never the shared
ones. Without --rate it first measures what `bench.tool_call` measures (the guarded 2026-07-28 echo
tools/call, wrk at c=16 from core 1) and soaks at 80% of it. The load, gevent greenlets in this one
process on core 1: tools/call in both eras (every third on a 2025-11-25 session), client_credentials
token requests, a person's client rotating its refresh token, a run_report job every few seconds,
and a few hundred subscriptions/listen streams. After a warm-up, minute after minute, one fault in
turn: Redis restart, Redis freeze (SIGSTOP 10 s), PostgreSQL restart, kill -9 of an MCP worker,
kill -9 of the job worker and its work-horse (started again, as a supervisor would), the
authorization server down (10 s) (bench/soak_stack.py). Prints one JSON document, then one summary
line: calls, acknowledged, audited, lost (acknowledged without an audit row), refused (503 with
Retry-After) and how many of those have their audit row, unexpected answers by status or transport
error, jobs stuck (not final `--settle` seconds after the load), streams open and ended by the
server, and the resident memory of each process at warm-up and at the end (bench/soak_ledger.py).
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import secrets  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

import gevent  # noqa: E402
import psycopg  # noqa: E402

from bench.common import LOAD_CORE, fetch_token, machine, wrk  # noqa: E402
from bench.soak_ledger import Ledger, by_phase, lost, memory_change, stuck, unexpected  # noqa: E402
from bench.soak_load import Load, Target  # noqa: E402
from bench.soak_stack import FAULTS, INJECT, Stack, build_stack  # noqa: E402
from tests.browser_forms import FormBrowser, query  # noqa: E402
from tests.factories import pkce_pair  # noqa: E402

CALIBRATION_SHARE = 0.8
REDIRECT_URI = "http://127.0.0.1:47123/callback"
PASSWORD = "soak person's long passphrase"


def machine_target(stack: Stack) -> Target:
    """The machine client the load runs as (no effective rate limit, as in the other benches), with a first token."""
    created = stack.drawbridge("clients", "create", "--name", "soak", "--scopes", "posts:read reports:run", "--rate-limit", "1000000000")
    credentials = dict(line.split(": ", 1) for line in created.splitlines())
    target = Target(stack.auth_port, stack.mcp_port, stack.env["DRAWBRIDGE_RESOURCE_URL"], credentials["client_id"], credentials["client_secret"])
    target.token = fetch_token({**stack.env, "BENCH_CLIENT_ID": target.client_id, "BENCH_CLIENT_SECRET": target.client_secret})
    return target


def person_grant(stack: Stack) -> tuple[str, Callable[[], str]]:
    """A public client registered as an MCP client registers itself, and a way to get a refresh
    token from a person's consent (the form browser of the tests, without a real browser)."""
    email = f"soak-{secrets.token_hex(4)}@example.com"
    stack.drawbridge("users", "create", "--email", email, "--password", PASSWORD)
    issuer = stack.env["DRAWBRIDGE_ISSUER"]
    metadata = {"client_name": "soak", "redirect_uris": [REDIRECT_URI], "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"], "token_endpoint_auth_method": "none"}
    request = urllib.request.Request(f"{issuer}/register", data=json.dumps(metadata).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        client_id = json.load(response)["client_id"]
    browser = FormBrowser(email, PASSWORD)

    def new_grant() -> str:
        verifier, challenge = pkce_pair()
        params = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT_URI, "scope": "posts:read", "state": "soak",
                  "resource": stack.env["DRAWBRIDGE_RESOURCE_URL"], "code_challenge": challenge, "code_challenge_method": "S256"}
        code = query(browser.consent(f"{issuer}/authorize?{urlencode(params)}"))["code"]
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "client_id": client_id, "code_verifier": verifier}
        with urllib.request.urlopen(urllib.request.Request(f"{issuer}/token", data=urlencode(form).encode()), timeout=10) as response:
            return json.load(response)["refresh_token"]

    return client_id, new_grant


def calibrate(target: Target, seconds: int) -> float:
    """What bench.tool_call measures on this stack: the guarded 2026-07-28 echo call, wrk at c=16."""
    env = {"BENCH_ERA": "modern", "BENCH_TOKEN": target.token}
    wrk(target.mcp_url, "mcp_request.lua", 2, 16, env)
    measured = wrk(target.mcp_url, "mcp_request.lua", seconds, 16, env)
    if measured["errors"]:
        raise SystemExit(f"the calibration run answered with errors: {measured}")
    return measured["rps"]


def rss_kib(pids: dict[str, int]) -> dict[str, int]:
    sizes = {}
    for role, pid in pids.items():
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        sizes[role] = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
    return sizes


def audited(stack: Stack) -> set[str]:
    with psycopg.connect(stack.env["DATABASE_URL"], autocommit=True) as connection:
        return {row[0] for row in connection.execute("SELECT request_id FROM audit_records WHERE request_id LIKE 'soak-%'")}


def job_statuses(stack: Stack, job_ids: list[str], settle_seconds: float) -> dict[str, str]:
    """The jobs' statuses once every one is final, or when `settle_seconds` have passed."""
    deadline = time.monotonic() + settle_seconds
    while True:
        with psycopg.connect(stack.env["DATABASE_URL"], autocommit=True) as connection:
            statuses: dict[str, str] = dict(connection.execute("SELECT id, status FROM jobs WHERE id = ANY(%s)", (job_ids,)).fetchall())
        if not stuck(job_ids, statuses) or time.monotonic() > deadline:
            return statuses
        gevent.sleep(2)


def soak(args: argparse.Namespace, stack: Stack) -> dict:
    """Start the stack, calibrate, load it, warm up, inject the faults minute by minute, account."""
    stack.start_auth()
    stack.start_mcp(args.app)
    stack.start_worker()
    target = machine_target(stack)
    measured = None if args.rate else calibrate(target, args.calibrate_seconds)
    rate = args.rate or measured * CALIBRATION_SHARE  # type: ignore[operator]
    ledger = Ledger()
    load = start_load(args, stack, target, ledger, rate)
    gevent.sleep(args.warmup)
    warm, warm_cpu = rss_kib(stack.processes()), resource.getrusage(resource.RUSAGE_SELF)
    ledger.outcomes.clear()  # the warm-up's answers are not the soak's
    load.latencies_ms.clear()
    calls_before, started = len(ledger.calls), time.monotonic()
    inject_faults(args, stack, ledger, started)
    end, streams_open = rss_kib(stack.processes()), load.open_streams
    seconds, end_cpu = time.monotonic() - started, resource.getrusage(resource.RUSAGE_SELF)
    load.stop()
    calls = ledger.calls[calls_before:]
    acknowledged, refused = ledger.acknowledged.intersection(calls), ledger.refused.intersection(calls)
    rows = audited(stack)
    missing = lost(acknowledged, rows)
    statuses = job_statuses(stack, ledger.job_ids, args.settle)
    return {
        "machine": machine(),
        "minutes": args.minutes,
        "calibrated_rps": measured and round(measured),
        "rate_asked": round(rate),
        "rate_sent": round(len(calls) / seconds),
        "calls_skipped_late": load.skipped,
        "call_p50_ms": round(statistics.median(load.latencies_ms), 1),
        "call_p99_ms": round(statistics.quantiles(load.latencies_ms, n=100)[98], 1),
        "load_generator_cores": round((end_cpu.ru_utime + end_cpu.ru_stime - warm_cpu.ru_utime - warm_cpu.ru_stime) / seconds, 2),
        "faults": [(name, round(start - started, 1), round(end_ - start, 1)) for name, start, end_ in ledger.faults],
        "calls": len(calls),
        "acknowledged": len(acknowledged),
        "audited": len(rows.intersection(calls)),
        "lost": len(missing),
        "lost_request_ids": missing[:20],
        "refused": len(refused),
        "refused_audited": len(refused & rows),
        "unexpected": unexpected(ledger.outcomes),
        "answers_by_phase": by_phase(ledger.outcomes),
        "streams_asked": args.streams,
        "streams_open_at_end": streams_open,
        "jobs": len(ledger.job_ids),
        "jobs_stuck": stuck(ledger.job_ids, statuses),
        "rss_mib": memory_change(warm, end),
        "logs": str(stack.workdir),
    }


def start_load(args: argparse.Namespace, stack: Stack, target: Target, ledger: Ledger, rate: float) -> Load:
    """Every kind of client at once: paced calls, tokens, refreshes, jobs, streams opened 50 a second."""
    person_client, new_grant = person_grant(stack)
    target.sessions = [None] * args.connections
    load = Load(target, ledger)
    load.callers(rate, args.connections, legacy_share=1 / 3)
    load.spawn(load.tokens, 1.0)
    load.spawn(load.refreshes, 2.0, person_client, new_grant(), new_grant)
    load.spawn(load.jobs, args.job_every, "posts_by_status")
    load.spawn(load.streams, args.streams, 50)
    return load


def inject_faults(args: argparse.Namespace, stack: Stack, ledger: Ledger, started: float) -> None:
    """One fault a minute, 20 s into it, in turn; returns when the last minute is over."""
    faults = [name for _ in range(args.minutes) for name in args.faults][: args.minutes]
    for minute, name in enumerate(faults):
        gevent.sleep(max(0.0, started + minute * 60 + 20 - time.monotonic()))
        ledger.fault_started(name)
        INJECT[name](stack)
        ledger.fault_ended()
    gevent.sleep(max(0.0, started + args.minutes * 60 - time.monotonic()))


def summary_line(report: dict) -> str:
    streams_ended = sum(n for phase in report["answers_by_phase"].values() for key, n in phase.items() if key.startswith("stream-end"))
    return (
        f"SOAK minutes={report['minutes']} rate={report['rate_sent']}/s calls={report['calls']} acknowledged={report['acknowledged']} "
        f"audited={report['audited']} lost={report['lost']} refused={report['refused']} refused_audited={report['refused_audited']} "
        f"unexpected={json.dumps(report['unexpected'], separators=(',', ':'))} "
        f"jobs={report['jobs']} jobs_stuck={sum(report['jobs_stuck'].values())} "
        f"streams_open={report['streams_open_at_end']}/{report['streams_asked']} streams_ended={streams_ended} "
        f"rss_mib={json.dumps(report['rss_mib'], separators=(',', ':'))}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--rate", type=float, help="tools/call per second; default: 80%% of a calibration run")
    parser.add_argument("--calibrate-seconds", type=int, default=8)
    parser.add_argument("--faults", type=lambda text: text.split(","), default=list(FAULTS), help=f"in turn, one a minute: {','.join(FAULTS)}")
    parser.add_argument("--connections", type=int, default=64, help="keep-alive connections the calls share")
    parser.add_argument("--streams", type=int, default=300)
    parser.add_argument("--job-every", type=float, default=8.0, help="seconds between run_report jobs")
    parser.add_argument("--warmup", type=float, default=20.0, help="seconds of load before the first memory reading")
    parser.add_argument("--settle", type=float, default=45.0, help="seconds after the load for every job to end")
    parser.add_argument("--mcp-workers", type=int, default=2)
    parser.add_argument("--app", default="bench.unguarded:create_app()", help="the MCP app (bench.tool_call's: the real one plus `echo`)")
    args = parser.parse_args()
    if unknown := set(args.faults) - set(FAULTS):
        parser.error(f"unknown faults: {', '.join(sorted(unknown))}")
    os.sched_setaffinity(0, {int(LOAD_CORE)})
    stack = build_stack(Path(tempfile.mkdtemp(prefix="drawbridge-soak-")), args.mcp_workers)
    try:
        report = soak(args, stack)
    finally:
        stack.stop()
    print(json.dumps(report, indent=2))
    print(summary_line(report))


if __name__ == "__main__":
    main()
