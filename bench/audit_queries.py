"""What the dashboard's and the developer portal's queries cost at 10 million audit records: every
function of authserver/usage.py and audit_log.py, and each operations page whole (its queries and
its template, through the app's test client), timed in process on a PostgreSQL database of its
own, loaded with generate_series (a few minutes) and dropped at the end.

    .venv-bench/bin/python -m bench.audit_queries [--rows 10000000] [--days 90] [--repeat 5]

The records span the last `--days` days, in time order as the MCP server writes them: 30 clients
(one of them deleted since, one a runaway agent making a tenth of all calls, mostly rate-limited),
the installed tools with a zipf-like spread, 2,000 people, 9 outcomes (88% ok), durations log-normal
around 20 ms. Each query runs `--repeat` times after one warm-up; the figures are the median and the
slowest, in milliseconds of wall time in this process (the page's server time, without its
template). Needs PostgreSQL (DATABASE_URL, else the local default port). Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import psycopg
from flask_migrate import upgrade

import authserver
from authserver import audit_hours, audit_latency, audit_log, audit_summaries, usage
from authserver.audit_selection import Filters, TimeRange
from authserver.users import assign_role, create_user
from bench.common import machine, with_database
from shared import scopes
from shared.cli import MIGRATIONS_DIR, create_cli_app
from shared.db import db, utcnow
from shared.settings import Settings

CLIENTS = 30
RUNAWAY = "bench-client-7"  # the runaway agent
DELETED = "bench-client-29"  # called, then deleted: no row in oauth_clients
PEOPLE = 2000

# One statement: the rows in time order, the clients and tools skewed, the outcomes by weight.
LOAD = """
INSERT INTO audit_records (at, client_id, subject, tool, arguments, arguments_bytes, outcome, rate_limit,
                           error, duration_ms, ip, request_id)
SELECT at, client_id, subject, tool,
       CASE WHEN outcome IN ('refused', 'rate_limited', 'invalid', 'revoked', 'unavailable') THEN NULL
            ELSE json_build_object('post_id', n %% 1000) END,
       14, outcome,
       CASE WHEN outcome = 'rate_limited' THEN (ARRAY['client', 'person', 'tool'])[1 + n %% 3] END,
       CASE WHEN outcome <> 'ok' THEN 'bench error' END,
       CASE WHEN outcome IN ('refused', 'rate_limited', 'invalid', 'revoked', 'unavailable') THEN 0.05
            ELSE round((exp(ln(20) + 0.8 * sqrt(-2 * ln(1 - u1)) * cos(2 * pi() * u2)))::numeric, 3)::float8 END,
       '127.0.0.1', 'bench-' || n
FROM (
  SELECT n, at, u1, u2,
         CASE WHEN runaway THEN %(runaway)s ELSE 'bench-client-' || floor(%(clients)s * power(c, 2))::int END AS client_id,
         'person-' || floor(%(people)s * power(p, 2))::int AS subject,
         (%(tools)s::text[])[1 + floor(cardinality(%(tools)s::text[]) * power(t, 2))::int] AS tool,
         CASE WHEN runaway AND o < 0.8 THEN 'rate_limited'
              WHEN o < 0.88 THEN 'ok' WHEN o < 0.92 THEN 'tool_error' WHEN o < 0.94 THEN 'rate_limited'
              WHEN o < 0.955 THEN 'refused' WHEN o < 0.97 THEN 'invalid' WHEN o < 0.98 THEN 'task_created'
              WHEN o < 0.99 THEN 'failed' WHEN o < 0.995 THEN 'revoked' ELSE 'unavailable' END AS outcome
  FROM (
    SELECT n, %(start)s::timestamptz + (n::float8 / %(rows)s) * %(span)s::interval AS at,
           random() AS u1, random() AS u2, random() AS c, random() AS p, random() AS t, random() AS o,
           random() < 0.1 AS runaway
    FROM generate_series(1, %(rows)s) AS n
  ) AS drawn
) AS made
"""
CLIENT_ROW = """
INSERT INTO oauth_clients (client_id, client_name, scope, grant_types, token_endpoint_auth_method, redirect_uris,
                           response_types, client_metadata, registered_via, may_introspect, created_at)
VALUES (%s, %s, '', 'client_credentials', 'client_secret_basic', '[]', '', '{}', 'cli', false, now())
"""


def load(url: str, rows: int, days: int) -> dict[str, float]:
    """The records, loaded without their indexes, which are then built again (much faster than
    keeping them up to date row by row); then VACUUM ANALYZE, as autovacuum would."""
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as connection:
        indexes = connection.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'audit_records' AND indexname <> 'pk_audit_records'"
        ).fetchall()
        for name, _ in indexes:
            connection.execute(f'DROP INDEX "{name}"')
        now = utcnow()
        parameters = {
            "rows": rows, "clients": CLIENTS, "people": PEOPLE, "runaway": RUNAWAY, "tools": scopes.tool_names(),
            "start": now - timedelta(days=days), "span": timedelta(days=days),
        }
        connection.execute(LOAD, parameters)
        loaded = time.perf_counter()
        for _, definition in indexes:
            connection.execute(definition)
        indexed = time.perf_counter()
        for number in range(CLIENTS):
            client_id = f"bench-client-{number}"
            if client_id != DELETED:
                connection.execute(CLIENT_ROW, (client_id, f"Bench client {number}"))
        connection.execute("VACUUM ANALYZE audit_records")
    return {
        "load_s": round(loaded - started, 1), "indexes_s": round(indexed - loaded, 1),
        "vacuum_s": round(time.perf_counter() - indexed, 1),
    }


def timed(run: Callable[[], Any], repeat: int, fresh: bool = True) -> dict[str, Any]:
    """`fresh`: a new transaction before each run, as each page has (a page's request has its own)."""
    run()  # warm-up: plans, caches
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        answer = run()
        times.append((time.perf_counter() - started) * 1000)
        if fresh:
            db.session.rollback()
    return {"median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1), "size": _size(answer)}


def _size(answer: Any) -> int:
    if isinstance(answer, int):  # a page's bytes
        return answer
    if isinstance(answer, list):
        return len(answer)
    if isinstance(answer, usage.ClientUsage):
        return len(answer.tools)
    if isinstance(answer, audit_log.Page):
        return len(answer.entries)
    if isinstance(answer, usage.ErrorRate):
        return answer.calls
    return 1


def exported_rows(period: TimeRange) -> int:
    return sum(chunk.count("\n") for chunk in audit_log.export_csv(period)) - 1


def figures(period: TimeRange, now: datetime) -> dict[str, Callable[[], Any]]:
    """Each query over `period`, and the dashboard page's set of them."""
    one_client, one_person, one_tool = Filters(client_id="bench-client-3"), Filters(subject="person-5"), Filters(tool="get_post")
    page: list[Callable[[], Any]] = [
        partial(usage.calls_per_tool, period, now=now),
        partial(usage.calls_per_client, period, limit=10, now=now),
        partial(usage.calls_per_hour, period, now=now),
        partial(usage.error_rate, period, now=now),
        partial(usage.rate_limit_hits, period, limit=10, now=now),
        partial(usage.estimated_latency_per_tool, period, now=now),
        partial(usage.unused_tools, now),
    ]
    return {
        "calls_per_tool": page[0],
        "top_callers_10": page[1],
        "calls_per_client_all": partial(usage.calls_per_client, period, now=now),
        "calls_per_hour": page[2],
        "error_rate": page[3],
        "rate_limit_hits": page[4],
        "latency_per_tool_exact": partial(usage.latency_per_tool, period),
        "latency_per_tool_histograms": page[5],
        "unused_tools": page[6],
        "dashboard_page_all_of_the_above": lambda: [part() for part in page],
        "calls_per_tool_one_client": partial(usage.calls_per_tool, period, one_client, now=now),
        "calls_per_hour_one_person": partial(usage.calls_per_hour, period, one_person, now=now),
        "latency_per_tool_one_client": partial(usage.latency_per_tool, period, one_client),
        "audit_log_first_page": partial(audit_log.browse, period),
        "audit_log_one_tool_first_page": partial(audit_log.browse, period, one_tool),
    }


def measure(repeat: int) -> dict[str, Any]:
    now = utcnow()
    ranges = {name: TimeRange.last(span, now) for name, span in (("24h", timedelta(days=1)), ("7d", timedelta(days=7)), ("30d", timedelta(days=30)))}
    started = time.perf_counter()
    counted = audit_hours.catch_up(now, max_hours=None)
    report: dict[str, Any] = {"roll_up_all": {"seconds": round(time.perf_counter() - started, 1), "rows_of_counts": counted}}
    started = time.perf_counter()
    histograms = audit_hours.catch_up(now, max_hours=None, rollup=audit_latency.LATENCY)
    report["histograms_all"] = {"seconds": round(time.perf_counter() - started, 1), "rows": histograms}
    for summary in (*audit_summaries.COUNT_SUMMARIES, audit_latency.LATENCY_DAYS):
        started = time.perf_counter()
        summed = audit_summaries.catch_up(summary, max_span=None)
        report[f"{summary.table.__tablename__}_all"] = {"seconds": round(time.perf_counter() - started, 1), "rows": summed}
    summaries = [summary.table.__tablename__ for summary in (*audit_summaries.COUNT_SUMMARIES, audit_latency.LATENCY_DAYS)]
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:  # as autovacuum would
        for table in ("audit_hours", "audit_latency_hours", *summaries):
            connection.exec_driver_sql(f"VACUUM ANALYZE {table}")
    for name, period in ranges.items():
        report[name] = {query: timed(run, repeat) for query, run in figures(period, now).items()}
    week = ranges["7d"]
    deep = audit_log.browse(TimeRange(week.start, week.start + timedelta(hours=1))).entries[0]  # a page a week back
    report["7d"]["audit_log_page_a_week_back"] = timed(lambda: audit_log.browse(week, after=audit_log.Cursor(deep.at, deep.id)), repeat)
    report["7d"]["client_usage_typical"] = timed(lambda: usage.client_usage("bench-client-3", now), repeat)
    report["7d"]["client_usage_runaway"] = timed(lambda: usage.client_usage(RUNAWAY, now), repeat)
    started = time.perf_counter()
    rows = exported_rows(ranges["24h"])
    seconds = time.perf_counter() - started
    report["24h"]["export_csv"] = {"rows": rows, "seconds": round(seconds, 1), "rows_per_s": round(rows / seconds)}
    return report


# Each operations page as an admin's browser asks for it.
PAGES = {
    "dashboard_1h": "/operations/?range=1h",
    "dashboard_24h": "/operations/?range=24h",
    "dashboard_7d": "/operations/?range=7d",
    "dashboard_30d": "/operations/?range=30d",
    "audit_log_7d": "/operations/audit?range=7d",
    "audit_log_30d_one_client": "/operations/audit?range=30d&client=bench-client-3",
    "audit_log_30d_one_person_one_tool": "/operations/audit?range=30d&person=person-5&tool=get_post",
}


def measure_pages(url: str, repeat: int) -> dict[str, Any]:
    """Each page's whole server time (queries, template, response), in process through the
    authorization server's test client, signed in as an admin; the embedded default's in-process
    Redis stand-ins, and no CSRF (the bench posts its own login)."""
    app = authserver.create_app(Settings(database_url=url, log_level="WARNING"))
    app.config["WTF_CSRF_ENABLED"] = False
    email, password = f"bench-admin-{os.getpid()}@example.com", "bench admin passphrase"
    with app.app_context():
        create_user(email, password)
        assign_role(email, "admin")
    browser = app.test_client()
    browser.post("/login", data={"email": email, "password": password})

    def get(path: str) -> int:
        response = browser.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return len(response.get_data())

    return {name: timed(partial(get, path), repeat, fresh=False) for name, path in PAGES.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="Keep the database (its URL is printed) to run again with --url.")
    parser.add_argument("--url", help="A database this script loaded before: measure only.")
    args = parser.parse_args()
    server_url = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    database = f"drawbridge_bench_audit_{os.getpid()}"
    url = args.url or with_database(server_url, database)
    admin = psycopg.connect(server_url, autocommit=True)
    report: dict[str, Any] = {"machine": machine(), "rows": args.rows, "days": args.days}
    try:
        if args.url is None:
            admin.execute(f'CREATE DATABASE "{database}"')
        app = create_cli_app(Settings(database_url=url, log_level="WARNING"))
        with app.app_context():
            upgrade(directory=str(MIGRATIONS_DIR))  # a kept database gains the tables added since
            if args.url is None:
                report["load"] = load(url, args.rows, args.days)
            report.update(measure(args.repeat))
            db.session.remove()
        report["pages"] = measure_pages(url, args.repeat)
        if args.keep:
            report["url"] = url
    finally:
        if args.url is None and not args.keep:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.close()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
