"""The audit-log browser: the records a filter selects, newest first, a page at a time; and the same
records as CSV, streamed.

Pages are found by keyset, not OFFSET: the next page starts after the last record shown, (at, id),
so page 1,000 costs what page 1 costs and a record written meanwhile shifts nothing. The export
reads the records in batches through a server-side cursor on PostgreSQL: no whole result is ever
held, whatever the range. A refused call's arguments are never exported (the MCP server does not
store them: guardrails/audit.py), and no cell can start a spreadsheet formula.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Unpack

from sqlalchemy import Select, select, tuple_

from authserver.audit_selection import NO_FILTERS, Filters, TimeRange, UsageQueryError
from authserver.models import Client
from mcp_resource.guardrails.audit import REFUSED_BEFORE_RUNNING
from mcp_resource.models import AuditRecord
from shared.db import db

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
EXPORT_BATCH_ROWS = 1000
# What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection"): such a cell gets a
# leading apostrophe, so it shows as the text it is.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "at", "client_id", "client_name", "subject", "tool", "outcome", "rate_limit", "duration_ms",
    "error", "ip", "session_id", "request_id", "arguments_bytes", "arguments",
)


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: the (at, id) of its last record. Its text form goes into page links."""

    at: datetime
    id: int

    def __str__(self) -> str:
        return f"{self.at.isoformat()}_{self.id}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        at, _, record_id = text.rpartition("_")
        try:
            moment, number = datetime.fromisoformat(at), int(record_id)
        except ValueError:
            raise UsageQueryError("the page cursor is not one this server made") from None
        if moment.tzinfo is None:
            raise UsageQueryError("the page cursor is not one this server made")
        return cls(moment, number)


@dataclass(frozen=True)
class Entry:
    """One audited call as the browser shows it (arguments as stored: redacted, maybe cut)."""

    id: int
    at: datetime
    client_id: str
    client_name: str | None
    subject: str
    tool: str
    outcome: str
    rate_limit: str | None
    duration_ms: float
    error: str | None
    ip: str | None
    session_id: str | None
    request_id: str
    arguments_bytes: int | None
    arguments: dict[str, Any] | str | None


@dataclass(frozen=True)
class Page:
    entries: list[Entry]
    next: Cursor | None  # None on the last page


def browse(period: TimeRange, filters: Filters = NO_FILTERS, after: Cursor | None = None, size: int = PAGE_SIZE) -> Page:
    """The `size` newest records in `period` matching `filters`, older than `after` if given."""
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise UsageQueryError(f"a page holds 1 to {MAX_PAGE_SIZE} records")
    query = _selected(period, filters)
    if after is not None:
        # The first condition lets the (.., at) indexes bound the scan; the second breaks ties.
        query = query.where(AuditRecord.at <= after.at, tuple_(AuditRecord.at, AuditRecord.id) < tuple_(after.at, after.id))
    rows = db.session.execute(query.limit(size + 1)).all()
    entries = [Entry(*row) for row in rows[:size]]
    more = len(rows) > size
    return Page(entries, Cursor(entries[-1].at, entries[-1].id) if more else None)


def export_csv(period: TimeRange, filters: Filters = NO_FILTERS) -> Iterator[str]:
    """The records `browse` would list, all of them, as CSV text in chunks: a header line, then
    EXPORT_BATCH_ROWS records a chunk. Iterate inside an app context (Flask's stream_with_context)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield _drain(buffer)
    result = db.session.execute(_selected(period, filters).execution_options(yield_per=EXPORT_BATCH_ROWS))
    for batch in result.partitions():
        for row in batch:
            writer.writerow(_csv_row(Entry(*row)))
        yield _drain(buffer)


def _selected(period: TimeRange, filters: Filters) -> Select[Unpack[tuple[Any, ...]]]:
    record = AuditRecord
    query = (
        select(
            record.id, record.at, record.client_id, Client.client_name, record.subject, record.tool, record.outcome,
            record.rate_limit, record.duration_ms, record.error, record.ip, record.session_id, record.request_id,
            record.arguments_bytes, record.arguments,
        )
        .outerjoin(Client, Client.client_id == record.client_id)  # a deleted client's calls keep its id
        .where(record.at >= period.start, record.at < period.end)
        .order_by(record.at.desc(), record.id.desc())
    )
    for name in ("client_id", "subject", "tool", "outcome"):
        value = getattr(filters, name)
        if value is not None:
            query = query.where(getattr(record, name) == value)
    return query


def _csv_row(entry: Entry) -> list[str]:
    # Never a refused call's argument values, even from a row written before they stopped being stored.
    arguments = "" if entry.outcome in REFUSED_BEFORE_RUNNING or entry.arguments is None else json.dumps(entry.arguments, ensure_ascii=False)
    values = (
        entry.at.isoformat(), entry.client_id, entry.client_name, entry.subject, entry.tool, entry.outcome, entry.rate_limit,
        entry.duration_ms, entry.error, entry.ip, entry.session_id, entry.request_id, entry.arguments_bytes, arguments,
    )
    return [_cell(value) for value in values]


def _cell(value: object) -> str:
    """A value as CSV text that no spreadsheet runs as a formula."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
