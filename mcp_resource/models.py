"""The resource server's own tables: tool switches and jobs (the demo domain's live in demo/models.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Model, UTCDateTime, utcnow


class ToolState(Model):
    """An operator's switch for one tool: a disabled tool is hidden and refused everywhere."""

    __tablename__ = "tool_states"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Job(Model):
    """Long work a tool handed off: durable before anyone is told about it, visible only to its owner."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(255), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    tool: Mapped[str] = mapped_column(String(128))
    arguments: Mapped[dict] = mapped_column(JSON)
    # working, then one of FINAL_STATUSES; "interrupted": the worker running it stopped (shown as failed)
    status: Mapped[str] = mapped_column(String(20), default="working")
    progress: Mapped[float] = mapped_column(default=0.0)
    total: Mapped[float | None]
    message: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    FINAL_STATUSES = ("completed", "failed", "cancelled", "interrupted")

    @property
    def finished(self) -> bool:
        return self.status in self.FINAL_STATUSES

    @property
    def shown_status(self) -> str:
        """The status clients see: a job whose worker stopped is one that failed."""
        return "failed" if self.status == "interrupted" else self.status


# What the developer portal's usage view reads of a client's calls (authserver/usage.client_usage).
CLIENT_USAGE_COLUMNS = ("tool", "outcome", "rate_limit", "duration_ms")


class AuditRecord(Model):
    """One guarded call (a tools/call, resources/read, prompts/get or completion/complete) and how
    it ended, committed before the caller gets its answer."""

    __tablename__ = "audit_records"
    # Each filter of the audit-log browser and the dashboard (authserver/usage.py, audit_log.py)
    # with the time, so a filtered range is one index range, newest first. On PostgreSQL a client's
    # index also holds what its usage page reads, so a week of its calls needs no table page.
    __table_args__ = (
        Index("ix_audit_records_client_id_at", "client_id", "at", postgresql_include=list(CLIENT_USAGE_COLUMNS)),
        Index("ix_audit_records_subject_at", "subject", "at"),
        Index("ix_audit_records_tool_at", "tool", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    client_id: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(200))
    # A tool's name, or `resources/read <URI or template>`, `prompts/get <name>`, `completion/complete <ref>`.
    tool: Mapped[str] = mapped_column(String(128))
    # The arguments object; past DRAWBRIDGE_AUDIT_MAX_ARGUMENT_BYTES a JSON string, the first that
    # many characters of their compact JSON; null for a call refused before it ran (see storable.py).
    arguments: Mapped[dict | str | None] = mapped_column(JSON)
    arguments_bytes: Mapped[int | None]  # the size of the arguments' compact JSON
    arguments_sha256: Mapped[str | None] = mapped_column(String(64))  # its SHA-256, when `arguments` is cut
    # ok, tool_error, refused (scope), rate_limited, invalid (unknown tool...), task_created, failed
    outcome: Mapped[str] = mapped_column(String(20))
    # For `rate_limited`, the limit the call was over: client, person or tool (shared/policy.py).
    rate_limit: Mapped[str | None] = mapped_column(String(10))
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[float]
    ip: Mapped[str | None] = mapped_column(String(64))
    session_id: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str] = mapped_column(String(128), index=True)
