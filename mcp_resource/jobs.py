"""Long tool work as jobs: a durable row first, then a runner executes it.

With Redis the runner is rq (a well-kept Redis job library): `drawbridge worker` processes run the
jobs, so a restart of the web processes loses nothing. On the embedded default a thread of the web
process runs them, behind the same interface.
"""

from __future__ import annotations

import logging
import threading
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import redis
from flask import Flask, current_app
from rq import Queue

from mcp_resource.auth import Principal
from mcp_resource.errors import Cancelled, ToolError
from mcp_resource.models import Job
from shared.db import db, utcnow
from shared.unstorable import storable

logger = logging.getLogger(__name__)

QUEUE_NAME = "drawbridge"
JOB_TIMEOUT_SECONDS = 3600
POLL_INTERVAL_MS = 1000
KEEP_FINISHED_MS = 24 * 3600 * 1000


class JobRunner(ABC):
    @abstractmethod
    def submit(self, job_id: str) -> None: ...


class RqRunner(JobRunner):
    def __init__(self, client: redis.Redis) -> None:
        self.queue = Queue(QUEUE_NAME, connection=client)

    def submit(self, job_id: str) -> None:
        self.queue.enqueue("mcp_resource.jobs.execute", job_id, job_id=job_id, job_timeout=JOB_TIMEOUT_SECONDS, result_ttl=0)


class LocalRunner(JobRunner):
    def __init__(self, app: Flask) -> None:
        self.app = app

    def submit(self, job_id: str) -> None:
        threading.Thread(target=_execute_in, args=(self.app, job_id), name=f"job-{job_id}", daemon=True).start()


def for_app(app: Flask, client: redis.Redis | None) -> JobRunner:
    return RqRunner(client) if client is not None else LocalRunner(app)


def submit(principal: Principal, tool: str, arguments: dict[str, Any]) -> Job:
    """Store the job (committed: durable before anyone hears of it), then hand it to the runner."""
    job = Job(id=str(uuid.uuid4()), client_id=principal.client_id, subject=principal.subject, tool=tool, arguments=arguments)
    db.session.add(job)
    db.session.commit()
    current_app.extensions["drawbridge.jobs"].submit(job.id)
    return job


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
        job = db.session.get(Job, self.job_id)
        db.session.refresh(job)
        if job.cancel_requested:
            raise Cancelled(self.job_id)
        job.progress, job.total, job.message, job.updated_at = progress, total, message, utcnow()
        db.session.commit()


def execute(job_id: str) -> None:
    """The worker's entry point (rq calls it by name, in a work-horse forked for the job)."""
    app = _worker_app()
    with app.app_context():
        # Connections inherited through fork belong to the parent: start this process's own.
        db.engine.dispose(close=False)
    _execute_in(app, job_id)


def _execute_in(app: Flask, job_id: str) -> None:
    with app.app_context():
        job = db.session.get(Job, job_id)
        if job is None or job.finished:
            return
        tool_name = job.tool
        tool = app.extensions["drawbridge.tools"].tool(tool_name)
        try:
            job.result = tool.work(JobProgress(job_id), dict(job.arguments))
            job.status = "completed"
        except Cancelled:
            db.session.rollback()
            job = db.session.get(Job, job_id)
            job.status = "cancelled"
        except ToolError as error:
            db.session.rollback()
            job = db.session.get(Job, job_id)
            job.status, job.error = "failed", str(error)
        except Exception:
            logger.exception("job_failed", extra={"job_id": job_id, "tool": tool_name})
            db.session.rollback()
            job = db.session.get(Job, job_id)
            job.status, job.error = "failed", f"Internal error, reference {job_id}."
        job.updated_at = utcnow()
        db.session.commit()


_app: Flask | None = None


def prepare_worker() -> None:
    """Build the worker's app before rq forks a work-horse per job, so no job pays for it."""
    _worker_app()


def _worker_app() -> Flask:
    """The worker's own app (settings from the environment), made once per process."""
    global _app
    if _app is None:
        from mcp_resource import create_app  # the package imports this module: import at use

        _app = create_app()
    return _app


def view(job: Job) -> dict[str, Any]:
    """A job as check_job_status shows it."""
    shown: dict[str, Any] = {"job_id": job.id, "tool": job.tool, "status": job.status, "progress": job.progress}
    if job.total is not None:
        shown["total"] = job.total
    if job.message:
        shown["message"] = job.message
    if job.status == "completed":
        shown["result"] = job.result
    if job.status == "failed":
        shown["error"] = job.error
    return shown
