"""Long tool work as jobs: a durable row first, then a runner (`job_runners.py`) executes it.

The row is the record a client reads (check_job_status, tasks/get). Its final state is written
once: by the execution, retried through a brief database error, or, when the worker running it
died, by the reaper that notices (`job_runners.py`).
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from mcp_resource.auth import Principal
from mcp_resource.errors import Cancelled, ToolError
from mcp_resource.models import Job
from mcp_resource.services import services
from shared.db import db, unavailable, utcnow
from shared.unstorable import storable

logger = logging.getLogger(__name__)

POLL_INTERVAL_MS = 1000
KEEP_FINISHED_MS = 24 * 3600 * 1000
# The final write is tried this many times, waiting 0.5 s, 1 s, 2 s, 4 s, 8 s between attempts:
# a database restart or failover of up to about 15 s does not lose the outcome.
FINAL_WRITE_ATTEMPTS = 6
FINAL_WRITE_FIRST_WAIT_SECONDS = 0.5
WORKER_STOPPED = "The job stopped before it finished because the server running it stopped; it has no result. Start it again."
NOT_QUEUED = "The job could not be handed to a job worker (the job queue did not answer); it has no result. Start it again."


@dataclass(frozen=True)
class Outcome:
    """How a job ended, as its row will say: one of Job.FINAL_STATUSES and its result or error."""

    status: str
    result: dict[str, Any] | None = None
    error: str | None = None


INTERRUPTED = Outcome("interrupted", error=WORKER_STOPPED)


class OutcomeNotRecorded(Exception):
    """The database refused the final write on every attempt; the outcome travels with the error."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.status)
        self.outcome = outcome


def submit(principal: Principal, tool: str, arguments: dict[str, Any]) -> Job:
    """Store the job (committed: durable before anyone hears of it), then hand it to the runner,
    which runs it again once if its worker dies and the tool declares itself idempotent. If the
    runner refuses it, the row says so (not "working" for ever) and the refusal is raised."""
    job = Job(id=str(uuid.uuid4()), client_id=principal.client_id, subject=principal.subject, tool=tool, arguments=arguments)
    db.session.add(job)
    db.session.commit()
    try:
        services().jobs.submit(job.id, retry=idempotent(tool))
    except Exception:
        try:
            record(job.id, Outcome("failed", error=NOT_QUEUED))
        except SQLAlchemyError:
            db.session.rollback()  # the database is out too: the reaper finds the row later
            logger.warning("job_not_queued_unrecorded", extra={"job_id": job.id}, exc_info=True)
        raise
    return job


def idempotent(tool: str) -> bool:
    """Whether `tool` may run again after its worker died (its own declaration); a tool no longer
    installed may not."""
    try:
        return bool(services().tools.tool(tool).annotations.idempotent)
    except KeyError:
        return False


def find(job_id: Any, principal: Principal) -> Job | None:
    """The caller's own job; another client's is as unknown as a made-up id, and so is a string
    no row can hold (a NUL or an unpaired surrogate, which the database would refuse to compare)."""
    if not isinstance(job_id, str) or not storable(job_id):
        return None
    job = db.session.get(Job, job_id)
    if job is None or job.client_id != principal.client_id or job.subject != principal.subject:
        return None
    return job


def request_cancel(job: Job) -> None:
    if not job.finished:
        job.cancel_requested = True
        job.updated_at = utcnow()
        db.session.commit()


@dataclass
class JobProgress:
    """What a running job reports; each report is stored so any process can read it."""

    job_id: str

    def report(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        """Store the progress (and notice a cancellation); skipped while the database is
        unavailable: a lost progress report is no reason to fail the work."""
        try:
            job = db.session.get(Job, self.job_id, populate_existing=True)
            if job is None:
                # The row is gone: nothing the work produces could be recorded or read, so it stops
                # as a cancelled job does (before, the AttributeError ended it as an internal error).
                raise Cancelled(self.job_id)
            if job.cancel_requested:
                raise Cancelled(self.job_id)
            job.progress, job.total, job.message, job.updated_at = progress, total, message, utcnow()
            db.session.commit()
        except SQLAlchemyError as error:
            db.session.rollback()
            if not unavailable(error):
                raise
            logger.warning("job_progress_skipped", extra={"job_id": self.job_id})


def run(app: Flask, job_id: str) -> None:
    """Run the job's tool and record how it ended; raises OutcomeNotRecorded if the database
    refused that record on every attempt."""
    with app.app_context():
        job = db.session.get(Job, job_id)
        if job is None or job.finished:
            return
        tool_name, arguments = job.tool, dict(job.arguments)
        outcome = _work(services(app).tools.tool(tool_name), job_id, arguments)
        for wait in _final_write_waits():
            try:
                record_or_fail(job_id, outcome)
                return
            except SQLAlchemyError:
                db.session.rollback()
                logger.warning("job_final_write_failed", extra={"job_id": job_id, "tool": tool_name, "retry_in_seconds": wait}, exc_info=True)
                if wait is None:
                    raise OutcomeNotRecorded(outcome) from None
                time.sleep(wait)


def _work(tool: Any, job_id: str, arguments: dict[str, Any]) -> Outcome:
    try:
        return Outcome("completed", result=tool.work(JobProgress(job_id), arguments))
    except Cancelled:
        return Outcome("cancelled")
    except ToolError as error:
        return Outcome("failed", error=str(error))
    except Exception:
        logger.exception("job_failed", extra={"job_id": job_id, "tool": tool.name})
        return internal_error(job_id)
    finally:
        db.session.rollback()  # whatever the work left unfinished; the outcome is written afresh


def _final_write_waits() -> list[float | None]:
    """Seconds to wait after each failed attempt; None after the last one."""
    return [FINAL_WRITE_FIRST_WAIT_SECONDS * 2**attempt for attempt in range(FINAL_WRITE_ATTEMPTS - 1)] + [None]


def record_or_fail(job_id: str, outcome: Outcome) -> bool:
    """`record`, or, when the database refuses that outcome for good (a text it cannot store, say),
    a generic failure in its place; raises only while the database is unavailable."""
    try:
        return record(job_id, outcome)
    except SQLAlchemyError as error:
        db.session.rollback()
        if unavailable(error):
            raise
        logger.warning("job_outcome_refused", extra={"job_id": job_id, "status": outcome.status}, exc_info=True)
        return record(job_id, internal_error(job_id))


def internal_error(job_id: str) -> Outcome:
    return Outcome("failed", error=f"Internal error, reference {job_id}.")


def record(job_id: str, outcome: Outcome) -> bool:
    """Write a job's final state, unless it already has one (the first final state stays: a client
    may have read it). True if this call wrote it."""
    job = db.session.get(Job, job_id, populate_existing=True)
    if job is None or job.finished:
        db.session.rollback()
        return False
    job.status, job.result, job.error, job.updated_at = outcome.status, outcome.result, outcome.error, utcnow()
    if outcome.error is not None:
        job.message = outcome.error  # not a stale "3 of 5 rows": the last word is why it ended
    db.session.commit()
    return True


def view(job: Job) -> dict[str, Any]:
    """A job as check_job_status shows it; a job whose worker stopped is "failed", with why."""
    shown: dict[str, Any] = {"job_id": job.id, "tool": job.tool, "status": job.shown_status, "progress": job.progress}
    if job.total is not None:
        shown["total"] = job.total
    if job.message:
        shown["message"] = job.message
    if job.status == "completed":
        shown["result"] = job.result
    if job.shown_status == "failed":
        shown["error"] = job.error
    return shown
