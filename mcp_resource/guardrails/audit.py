"""The audit trail: every guarded call (tools/call, resources/read, prompts/get,
completion/complete: answered, refused, rate-limited, failed) as a row, committed before the
answer goes out, so an acknowledged call always has its record. The `tool` column names what was
called by its `audit_name` (mcp_resource/guarded.py): a tool's name, or the method and its target."""

from __future__ import annotations

import functools
import json
import logging
import math
import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, cast

import psycopg
from flask import Flask
from sqlalchemy import Connection, Engine, Table, create_engine, delete, insert, select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.pool import NullPool

from mcp_resource.batching import Batcher, BatchTimeout, Failed
from mcp_resource.guarded import Guarded
from mcp_resource.guardrails import storable
from mcp_resource.models import AuditRecord
from mcp_resource.services import McpServices
from shared import metrics
from shared import services as shared_services
from shared.app import current_settings
from shared.db import DATABASE_ERRORS, connector, db, rowcount, unavailable, utcnow

# The table itself, for Core inserts: a declarative class's __table__ is typed as any FromClause.
AUDIT_TABLE = cast(Table, AuditRecord.__table__)

logger = logging.getLogger(__name__)

REDACTED = "[redacted]"
# What the database says about what one row holds (PostgreSQL's data exceptions, such as a NUL in
# text; a value too deep for its parser; SQLite's driver unable to encode text as UTF-8), as opposed
# to the database being unreachable: only these make the writer try a batch's rows one by one.
ROW_ERRORS = (psycopg.DataError, psycopg.IntegrityError, psycopg.errors.ProgramLimitExceeded, DataError, IntegrityError, ValueError)
COLUMNS = (
    "at", "client_id", "subject", "tool", "arguments", "arguments_bytes", "arguments_sha256",
    "outcome", "rate_limit", "error", "duration_ms", "ip", "session_id", "request_id",
)
# Calls refused before they ran keep no argument values, only their size: their arguments were
# never accepted by any tool, and refusals cost the caller nothing (not even its rate limit).
REFUSED_BEFORE_RUNNING = frozenset({"refused", "rate_limited", "invalid", "unavailable", "revoked"})
TOOL_MAX_CHARS = 128  # the column's length
ERROR_MAX_CHARS = 4096  # an error may quote what the caller sent (an unknown tool's name)
# The metrics label of every name that is not a tool switched on: names a caller invents would each
# make a new series. Parentheses are not allowed in tool names, so no tool can be called this.
UNKNOWN_TOOL = "(unknown)"
INSERT_DOCUMENT = (
    f"INSERT INTO audit_records ({', '.join(COLUMNS)}) "
    f"SELECT {', '.join(COLUMNS)} FROM json_populate_recordset(NULL::audit_records, %s::json)"
)


@dataclass(frozen=True)
class Caller:
    """Who made the call and over which request, as the transport knows it."""

    client_id: str
    subject: str
    request_id: str
    ip: str | None = None
    session_id: str | None = None


def redact(tool: Guarded | None, arguments: Any) -> dict[str, Any] | None:
    """Arguments with every field the tool (resource, prompt...) marks `sensitive` blanked; none
    for an unknown one."""
    if tool is None or not isinstance(arguments, dict):
        return None
    return {k: (REDACTED if k in tool.sensitive else v) for k, v in arguments.items()}


class AuditUnavailable(Exception):
    """The record could not be made durable, so the call must not be acknowledged."""


class AuditWriter:
    """Group commit: rows from concurrent calls share one statement (one fsync), and each call
    waits until its own row is committed, so no answer goes out before its record is durable."""

    MAX_BATCH = 200  # rows x 14 columns stays under SQLite's limit on bound parameters (32766 since 3.32)
    WAIT_SECONDS = 10.0

    def __init__(self, app: Flask) -> None:
        self._engine: Engine | None = None
        self._connection: Connection | None = None
        self._holding = threading.Lock()  # the connection: the writer's thread uses it, `close` ends it
        url, timeout = app.config["SETTINGS"].database_url, app.config["SETTINGS"].database_timeout_seconds
        # The requests' bounded waits: a frozen database fails the batch instead of holding the writer.
        self._bounded = {} if url.startswith("sqlite") else {"creator": connector(url, timeout)}
        self._batcher: Batcher[dict[str, Any], Failed | None] = Batcher(
            "audit-writer", self.commit, self.MAX_BATCH, self.WAIT_SECONDS, app.app_context
        )

    def write(self, row: dict[str, Any]) -> None:
        try:
            self._batcher.submit(row)
        except BatchTimeout:
            raise AuditUnavailable("the audit record was not committed in time") from None
        except (*DATABASE_ERRORS, *ROW_ERRORS) as failure:
            raise AuditUnavailable("the audit record could not be committed") from failure

    def commit(self, rows: list[dict[str, Any]]) -> list[Failed | None]:
        """Insert a batch in one statement. If the database refuses it for what a row holds, each
        row is tried once on its own, so only a refused row's call fails; if the database cannot be
        reached, every row fails. A connection that had gone stale (a restart, a failover) is
        replaced and the batch tried once more."""
        with self._holding:
            return self._commit(rows)

    def close(self) -> None:
        """Let go of the writer's connection, after the batch in flight; the next batch opens another."""
        with self._holding:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _commit(self, rows: list[dict[str, Any]]) -> list[Failed | None]:
        held = self._connection is not None  # one made just now is not stale: no second try
        try:
            try:
                self._insert(rows)
            except ROW_ERRORS:
                raise
            except DATABASE_ERRORS as failure:
                if not (held and unavailable(failure)):
                    raise
                self._insert(rows)
        except ROW_ERRORS:
            return self._commit_one_by_one(rows)
        except DATABASE_ERRORS:
            logger.exception("audit_write_failed", extra={"rows": len(rows)})
            raise
        return [None] * len(rows)

    def _commit_one_by_one(self, rows: list[dict[str, Any]]) -> list[Failed | None]:
        """Each row once: at most one statement per row, whatever the rows hold."""
        answers: list[Failed | None] = []
        for row in rows:
            try:
                self._insert([row])
            except ROW_ERRORS as refused:
                # The database's message quotes the row; the log names the call and the error class.
                logger.error("audit_row_refused", extra={"row_request_id": row["request_id"], "error": type(refused).__name__})
                answers.append(Failed(refused))
            except DATABASE_ERRORS as failure:  # the database went away: the rest fail without a try each
                logger.exception("audit_write_failed", extra={"rows": len(rows) - len(answers)})
                answers += [Failed(failure)] * (len(rows) - len(answers))
                break
            else:
                answers.append(None)
        return answers

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        """On the writer's own connection: no pool checkout or ping per batch."""
        if self._connection is None:
            self._connection = self._connect()
        try:
            if self._connection.dialect.name == "postgresql":
                _insert_in_one_statement(self._connection, rows)
            else:
                with self._connection.begin():
                    self._connection.execute(insert(AUDIT_TABLE), rows)
        except ROW_ERRORS:
            raise  # the statement failed on what a row holds; the connection is fine
        except DATABASE_ERRORS:
            self._connection.close()
            self._connection = None
            raise

    def _connect(self) -> Connection:
        """A connection of the writer's own, outside the requests' pool: requests waiting for their
        audit rows may hold every pooled connection, and the writer must never wait behind them."""
        if self._engine is None:  # made in the writer's thread, after gunicorn forked the worker
            self._engine = create_engine(db.engine.url, poolclass=NullPool, **self._bounded)
        connection = self._engine.connect()
        if connection.dialect.name == "postgresql":
            return connection.execution_options(isolation_level="AUTOCOMMIT")
        return connection


def _insert_in_one_statement(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: the batch travels as one JSON document and lands in one INSERT, in autocommit: a
    single statement is its own transaction, so the batch is durable in one round trip (no BEGIN,
    no COMMIT). The statement text never changes (parsed and planned once), and the rows are
    encoded by the json module's C encoder instead of one adapted parameter per value."""
    document = json.dumps(rows, default=datetime.isoformat)
    connection.connection.driver_connection.execute(INSERT_DOCUMENT, (document,))  # type: ignore[union-attr]


def record(
    caller: Caller,
    tool_name: str,
    tool: Guarded | None,
    arguments: Any,
    outcome: str,
    duration_ms: float,
    error: str | None = None,
    rate_limit: str | None = None,
) -> None:
    """Make the record durable: through the MCP server's group-commit writer, or directly in
    another app (the CLI's)."""
    made = row(caller, tool_name, tool, arguments, outcome, duration_ms, error, rate_limit)
    found = shared_services.of()
    if isinstance(found, McpServices):
        found.audit.write(made)
    else:
        db.session.execute(insert(AUDIT_TABLE), [made])
        db.session.commit()
    calls, seconds = _tool_metrics(tool.audit_name if tool is not None else UNKNOWN_TOOL, caller.client_id, outcome)
    calls.inc()
    seconds.observe(duration_ms / 1000)


def row(
    caller: Caller,
    tool_name: str,
    tool: Guarded | None,
    arguments: Any,
    outcome: str,
    duration_ms: float,
    error: str | None = None,
    rate_limit: str | None = None,
) -> dict[str, Any]:
    """The record of one call as any database takes it: what the caller chose made storable, the
    arguments within DRAWBRIDGE_AUDIT_MAX_ARGUMENT_BYTES, none of their values for a refused call,
    and for a `rate_limited` one the limit it was over (client, person or tool)."""
    kept = storable.arguments(
        redact(tool, arguments) if tool is not None else arguments,
        outcome not in REFUSED_BEFORE_RUNNING,
        current_settings().audit_max_argument_bytes,
    )
    return {  # the keys are COLUMNS
        "at": utcnow(),
        "client_id": caller.client_id,
        "subject": caller.subject,
        "tool": storable.text(tool_name[:TOOL_MAX_CHARS]),
        "arguments": kept.value,
        "arguments_bytes": kept.size_bytes,
        "arguments_sha256": kept.sha256,
        "outcome": outcome,
        "rate_limit": rate_limit,
        "error": storable.text(error[:ERROR_MAX_CHARS]) if error is not None else None,
        "duration_ms": round(duration_ms, 3),
        "ip": caller.ip,
        "session_id": caller.session_id,
        "request_id": caller.request_id,
    }


@functools.lru_cache(maxsize=4096)
def _tool_metrics(tool: str, client_id: str, outcome: str) -> tuple[Any, Any]:
    """The labelled series, looked up once per combination (`labels()` locks and builds a key each time)."""
    return metrics.TOOL_CALLS.labels(tool, client_id, outcome), metrics.TOOL_SECONDS.labels(tool)


def summary(day: date) -> list[dict[str, Any]]:
    """Per tool for one UTC day: calls, average and P95 duration, errors."""
    start = datetime.combine(day, time.min, tzinfo=timezone.utc)
    rows = db.session.execute(
        select(AuditRecord.tool, AuditRecord.duration_ms, AuditRecord.outcome).where(
            AuditRecord.at >= start, AuditRecord.at < start + timedelta(days=1)
        )
    ).all()
    by_tool: dict[str, list[tuple[float, str]]] = {}
    for tool, duration, outcome in rows:
        by_tool.setdefault(tool, []).append((duration, outcome))
    return [
        {
            "tool": tool,
            "calls": len(calls),
            "average_ms": round(sum(d for d, _ in calls) / len(calls), 2),
            "p95_ms": round(_percentile(sorted(d for d, _ in calls), 95), 2),
            "errors": sum(1 for _, outcome in calls if outcome not in ("ok", "task_created")),
        }
        for tool, calls in sorted(by_tool.items())
    ]


def prune(retention_days: int) -> int:
    """Remove records older than the retention period; returns how many went."""
    removed = db.session.execute(delete(AuditRecord).where(AuditRecord.at < utcnow() - timedelta(days=retention_days)))
    db.session.commit()
    return rowcount(removed)


def _percentile(ordered: list[float], percent: int) -> float:
    """Nearest-rank percentile."""
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]
