"""A tool that started a job relays the job's progress to a client that asked for progress
notifications, and answers with the job's result when it ends."""

from __future__ import annotations

import time

from mcp_resource import jobs
from mcp_resource.errors import Cancelled, ToolError
from mcp_resource.tools.base import ToolCall, ToolResult
from shared.db import db

POLL_SECONDS = 0.2
# After this the call answers with the job as it stands; the job goes on, and the tool that reads a
# job's state follows it.
LIMIT_SECONDS = 300


def follow(call: ToolCall, job_id: str) -> ToolResult:
    """Relay the progress of the caller's job `job_id` until it ends or LIMIT_SECONDS pass; a
    cancelled call asks the job to stop."""
    seen = None
    deadline = time.monotonic() + LIMIT_SECONDS
    while True:
        db.session.expire_all()
        job = jobs.find(job_id, call.principal)
        if job is None:  # the row was removed while the job ran
            raise ToolError(f"The job {job_id} no longer exists; it has no result.")
        try:
            if job.progress != seen:
                seen = job.progress
                call.report_progress(job.progress, job.total, job.message)
            else:
                call.check_cancelled()
        except Cancelled:
            jobs.request_cancel(job)
            raise
        if job.finished or time.monotonic() >= deadline:
            return ToolResult.json(jobs.view(job))
        time.sleep(POLL_SECONDS)
