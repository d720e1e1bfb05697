"""The audit trail: every tools/call (answered, refused, rate-limited, failed) as a row, committed
before the answer goes out, so an acknowledged call always has its record."""

from __future__ import annotations

import logging
import math
import queue
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.exc import SQLAlchemyError

from mcp_resource.models import AuditRecord
from mcp_resource.tools.base import Tool
from shared import metrics
from shared.db import db, utcnow

logger = logging.getLogger(__name__)

REDACTED = "[redacted]"
# Core, not the ORM: the rows are plain dicts, and the writer only ever inserts them.
AUDIT_INSERT = insert(AuditRecord.__table__)


@dataclass(frozen=True)
class Caller:
    """Who made the call and over which request, as the transport knows it."""

    client_id: str
    subject: str
    request_id: str
    ip: str | None = None
    session_id: str | None = None


def redact(tool: Tool | None, arguments: Any) -> dict[str, Any] | None:
    """Arguments with every field the tool marks `sensitive` blanked; none for an unknown tool."""
    if tool is None or not isinstance(arguments, dict):
        return None
    return {k: (REDACTED if k in tool.sensitive else v) for k, v in arguments.items()}


class AuditUnavailable(Exception):
    """The record could not be made durable, so the call must not be acknowledged."""


@dataclass
class _Pending:
    row: dict[str, Any]
    done: threading.Event = field(default_factory=threading.Event)
    error: Exception | None = None


class AuditWriter:
    """Group commit: rows from concurrent calls share one transaction (one fsync), and each call
    waits until its own row is committed, so no answer goes out before its record is durable."""

    MAX_BATCH = 500
    WAIT_SECONDS = 10.0

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._queue: queue.Queue[_Pending] = queue.Queue()
        self._started = False
        self._lock = threading.Lock()
        self._connection: Connection | None = None

    def write(self, row: dict[str, Any]) -> None:
        self._ensure_started()
        pending = _Pending(row)
        self._queue.put(pending)
        if not pending.done.wait(self.WAIT_SECONDS):
            raise AuditUnavailable("the audit record was not committed in time")
        if pending.error is not None:
            raise AuditUnavailable("the audit record could not be committed") from pending.error

    def _ensure_started(self) -> None:
        if not self._started:
            with self._lock:
                if not self._started:
                    self._started = True
                    threading.Thread(target=self._loop, name="audit-writer", daemon=True).start()

    def _loop(self) -> None:
        with self.app.app_context():
            while True:
                batch = [self._queue.get()]
                while len(batch) < self.MAX_BATCH:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                error = self._commit([pending.row for pending in batch])
                for pending in batch:
                    pending.error = error
                    pending.done.set()

    def _commit(self, rows: list[dict[str, Any]]) -> Exception | None:
        """One transaction for the batch; a connection that had gone stale is replaced and the batch
        tried once more. Returns the failure, if any, for every caller in the batch to see."""
        try:
            try:
                self._insert(rows)
            except SQLAlchemyError as failure:
                if not failure.connection_invalidated:
                    raise
                self._insert(rows)
        except SQLAlchemyError as failure:
            logger.exception("audit_write_failed", extra={"rows": len(rows)})
            return failure
        return None

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        """On the writer's own connection: no pool checkout or ping per batch."""
        if self._connection is None:
            self._connection = db.engine.connect()
        try:
            with self._connection.begin():
                self._connection.execute(AUDIT_INSERT, rows)
        except SQLAlchemyError:
            self._connection.close()
            self._connection = None
            raise


def record(
    caller: Caller, tool_name: str, tool: Tool | None, arguments: Any, outcome: str, duration_ms: float, error: str | None = None
) -> None:
    """Make the record durable: through the app's group-commit writer, or directly without one."""
    row = {
        "at": utcnow(),
        "client_id": caller.client_id,
        "subject": caller.subject,
        "tool": tool_name[:128],
        "arguments": redact(tool, arguments),
        "outcome": outcome,
        "error": error,
        "duration_ms": round(duration_ms, 3),
        "ip": caller.ip,
        "session_id": caller.session_id,
        "request_id": caller.request_id,
    }
    writer = current_app.extensions.get("drawbridge.audit")
    if writer is not None:
        writer.write(row)
    else:
        db.session.execute(AUDIT_INSERT, [row])
        db.session.commit()
    metrics.TOOL_CALLS.labels(tool_name[:128], caller.client_id, outcome).inc()
    metrics.TOOL_SECONDS.labels(tool_name[:128]).observe(duration_ms / 1000)


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
    return removed.rowcount


def _percentile(ordered: list[float], percent: int) -> float:
    """Nearest-rank percentile."""
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]
