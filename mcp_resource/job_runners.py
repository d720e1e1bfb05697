"""Who runs jobs, and who notices when the process running one died.

With Redis, rq (a well-kept Redis job library) queues them and `drawbridge worker` processes
(job_worker.py) run them, so a restart of the web processes loses nothing. rq notices a
work-horse that died under a living worker; a worker killed with its work-horse stops heart-beating, and rq's started-job
registry cleanup then fails its job, or queues it again once when the tool declares itself
idempotent. The reaper, a loop in every MCP server process (one of them per interval does the
work), runs that cleanup and writes each failed rq job's outcome on its row: within
HEARTBEAT_SECONDS + HEARTBEAT_GRACE_SECONDS + REAP_INTERVAL_SECONDS (25 s) of the death. A working
row older than HEARTBEAT_SECONDS + HEARTBEAT_GRACE_SECONDS whose rq job no longer exists (a Redis
restart lost the queue) is queued again when its tool is idempotent, else marked interrupted.

Without Redis (the embedded default) the MCP server's own greenlets run jobs. Each process touches
the rows of the jobs it runs every REAP_INTERVAL_SECONDS; a working row nobody touched for
LOCAL_STALE_SECONDS belonged to a process that died, and is marked interrupted. A stopping process
(SIGTERM) marks its own running jobs interrupted before it exits.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable
from datetime import timedelta, timezone

import redis
import rq
from flask import Flask
from rq.exceptions import NoSuchJobError
from rq.job import Job as RqJob
from rq.utils import now as rq_now
from rq.worker import BaseWorker
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from mcp_resource import jobs
from mcp_resource.models import Job
from serving import graceful_stop
from shared import health, metrics
from shared.background import BackgroundLoop
from shared.db import db, unavailable, utcnow
from shared.redis import key

logger = logging.getLogger(__name__)

QUEUE_NAME = "drawbridge"
JOB_TIMEOUT_SECONDS = 3600
# A worker beats every HEARTBEAT_SECONDS, busy or idle. rq waits 60 s for a missed beat; ours waits
# HEARTBEAT_GRACE_SECONDS, more than a Redis restart or a 10 s freeze takes.
HEARTBEAT_SECONDS = 5
HEARTBEAT_GRACE_SECONDS = 15
REAP_INTERVAL_SECONDS = 5
LOCAL_STALE_SECONDS = 15
# /healthz is degraded when jobs are queued and no worker has beaten for this long.
WORKER_SEEN_SECONDS = 30
REAPER_LOCK = key("jobs", "reaper")
OUTCOME_META_KEY = "drawbridge_outcome"
TIMED_OUT = f"The job ran longer than its limit of {JOB_TIMEOUT_SECONDS} s and was stopped; it has no result."


class JobRunner(ABC):
    """Runs submitted jobs; its reaper, started once per process, records the ones whose runner died."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._reaper = BackgroundLoop(self._loop, "job-reaper")

    @abstractmethod
    def submit(self, job_id: str, retry: bool) -> None:
        """Run the job; `retry`: run it once more if the process running it dies."""

    @abstractmethod
    def reap(self) -> None:
        """Record the jobs whose runner died (called every REAP_INTERVAL_SECONDS, in an app context)."""

    def start(self) -> None:
        """Start the reaper in this process (a gunicorn worker, after the fork), once."""
        self._reaper.start()

    def stop(self) -> None:
        self._reaper.stop()

    def _loop(self) -> None:
        while self._reaper.running:
            try:
                with self.app.app_context():
                    self.reap()
            except Exception:  # Redis or the database out, mostly: the loop goes on regardless
                logger.warning("job_reap_failed", exc_info=True)
            self._reaper.pause(REAP_INTERVAL_SECONDS)


def execute(job_id: str) -> None:
    """The entry point's name before job_worker.py: jobs the previous release queued name it, and a
    rolling deploy must not fail them. Remove it in the release after next."""
    from mcp_resource import job_worker  # it imports this module

    job_worker.execute(job_id)


class RqRunner(JobRunner):
    def __init__(self, app: Flask, client: redis.Redis) -> None:
        super().__init__(app)
        self.client = client
        self.queue = rq.Queue(QUEUE_NAME, connection=client)

    def submit(self, job_id: str, retry: bool) -> None:
        self.queue.enqueue(
            "mcp_resource.job_worker.execute",
            job_id,
            job_id=job_id,
            job_timeout=JOB_TIMEOUT_SECONDS,
            result_ttl=0,
            retry=rq.Retry(max=1) if retry else None,
        )

    def reap(self) -> None:
        """rq's cleanup of jobs whose worker stopped beating; every failed rq job's outcome on its
        row (each rq job leaves the failed registry once its row has its final state); then the
        working rows rq no longer knows. While the database is unavailable the rest waits for the
        next interval; a job whose outcome it refuses for good gets a generic failure instead."""
        if not self.client.set(REAPER_LOCK, 1, nx=True, ex=REAP_INTERVAL_SECONDS):
            return  # another process reaped within this interval
        self.queue.started_job_registry.cleanup()
        failed = self.queue.failed_job_registry
        for job_id in failed.get_job_ids(cleanup=False):
            if jobs.record_or_fail(job_id, self._outcome(job_id)):
                logger.warning("job_failed_in_worker", extra={"job_id": job_id})
            failed.remove(job_id, delete_job=True)
        self._reap_lost()

    def _reap_lost(self) -> None:
        """Working rows older than a worker's heartbeat allowance whose rq job is gone: queued
        again if the tool is idempotent, else interrupted."""
        cutoff = utcnow() - timedelta(seconds=HEARTBEAT_SECONDS + HEARTBEAT_GRACE_SECONDS)
        rows = db.session.execute(select(Job.id, Job.tool).where(Job.status == "working", Job.updated_at < cutoff)).all()
        db.session.rollback()
        for job_id, tool in rows:
            if RqJob.exists(job_id, connection=self.client):
                continue
            if jobs.idempotent(tool):
                db.session.execute(update(Job).where(Job.id == job_id).values(updated_at=utcnow()))
                db.session.commit()
                self.submit(job_id, retry=False)
                logger.warning("job_requeued", extra={"job_id": job_id})
            elif jobs.record_or_fail(job_id, jobs.INTERRUPTED):
                logger.warning("job_interrupted", extra={"job_id": job_id})

    def _outcome(self, job_id: str) -> jobs.Outcome:
        """The outcome its work-horse kept, else one told from how rq saw it end, in plain words."""
        try:
            rq_job = RqJob.fetch(job_id, connection=self.client)
        except NoSuchJobError:
            return jobs.INTERRUPTED
        kept = rq_job.meta.get(OUTCOME_META_KEY)
        if kept:
            return jobs.Outcome(**kept)
        result = rq_job.latest_result()
        reason = (result.exc_string if result is not None else None) or ""
        if "JobTimeoutException" in reason:
            return jobs.Outcome("failed", error=TIMED_OUT)
        if not reason or "AbandonedJobError" in reason or "Work-horse terminated unexpectedly" in reason:
            return jobs.INTERRUPTED
        return jobs.internal_error(job_id)  # the worker's log has the traceback

    def queued(self) -> dict[tuple[str, ...], float]:
        """How many jobs wait in the queue, for /metrics."""
        return {(): float(self.queue.count)}

    def oldest_queued_seconds(self) -> dict[tuple[str, ...], float]:
        """How long the job at the head of the queue has waited (0 with none), for /metrics."""
        for job in self.queue.get_jobs(0, 1):  # the queue's oldest: rq pushes at the tail, workers pop the head
            if job.enqueued_at is not None:
                enqueued = job.enqueued_at if job.enqueued_at.tzinfo else job.enqueued_at.replace(tzinfo=timezone.utc)
                return {(): max((rq_now() - enqueued).total_seconds(), 0.0)}
        return {(): 0.0}

    def degraded(self) -> str | None:
        """Why jobs wait with nobody to run them, for /healthz."""
        try:
            queued = self.queue.count
            if not queued or _seen_recently(rq.Worker.all(queue=self.queue)):
                return None
        except redis.RedisError:
            return None  # /healthz reports Redis itself
        return f"{queued} job(s) queued and no job worker seen for {WORKER_SEEN_SECONDS} s; start `drawbridge worker`."


def _seen_recently(workers: Iterable[BaseWorker]) -> bool:
    cutoff = rq_now() - timedelta(seconds=WORKER_SEEN_SECONDS)
    return any(w.last_heartbeat is not None and w.last_heartbeat > cutoff for w in workers)


class LocalRunner(JobRunner):
    """The embedded default: a greenlet per job in the MCP server (a job dies with its process).
    An outcome the database would not take stays here, touched like a running job, until the
    reaper writes it; a stopping process records its running jobs as interrupted."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self.running: set[str] = set()
        self.unrecorded: dict[str, jobs.Outcome] = {}
        graceful_stop.drain_before_exit(self)

    def submit(self, job_id: str, retry: bool) -> None:
        self.start()  # an app no gunicorn worker started (a test's) reaps once it runs a job
        self.running.add(job_id)
        threading.Thread(target=self._run, args=(job_id,), name=f"job-{job_id}", daemon=True).start()

    def _run(self, job_id: str) -> None:
        try:
            jobs.run(self.app, job_id)
        except jobs.OutcomeNotRecorded as failure:
            self.unrecorded[job_id] = failure.outcome  # the reaper writes it
        finally:
            self.running.discard(job_id)

    def reap(self) -> None:
        """Write the outcomes kept back; touch this process's jobs; mark interrupted the working
        rows nobody touched."""
        self._record_unrecorded()
        now = utcnow()
        mine = self.running | self.unrecorded.keys()
        if mine:
            db.session.execute(update(Job).where(Job.id.in_(list(mine)), Job.status == "working").values(updated_at=now))
            db.session.commit()
        stale = now - timedelta(seconds=LOCAL_STALE_SECONDS)
        for job_id in db.session.scalars(select(Job.id).where(Job.status == "working", Job.updated_at < stale)).all():
            if job_id not in mine and jobs.record_or_fail(job_id, jobs.INTERRUPTED):
                logger.warning("job_interrupted", extra={"job_id": job_id})

    def _record_unrecorded(self) -> None:
        for job_id, outcome in list(self.unrecorded.items()):
            jobs.record_or_fail(job_id, outcome)  # raises while the database is unavailable
            del self.unrecorded[job_id]

    def drain(self, seconds: float) -> None:
        """The process is stopping (SIGTERM) and its jobs die with it: their rows say so now, not
        LOCAL_STALE_SECONDS after, and the outcomes kept back are written (within the database's
        own bounded waits)."""
        try:
            with self.app.app_context():
                self._record_unrecorded()
                for job_id in list(self.running):
                    if jobs.record_or_fail(job_id, jobs.INTERRUPTED):
                        logger.warning("job_interrupted_by_stop", extra={"job_id": job_id})
        except SQLAlchemyError as error:
            if not unavailable(error):
                raise
            logger.warning("job_stop_unrecorded", extra={"jobs": len(self.running) + len(self.unrecorded)})


def for_app(app: Flask, client: redis.Redis | None) -> JobRunner:
    """rq with Redis (with /healthz degraded while queued jobs have no worker, and the queue's
    length and age in /metrics), else in process (no queue: a job starts when submitted); its
    reaper starts with the app's services (McpServices.start) in each gunicorn worker."""
    runner: JobRunner
    if client is None:
        runner = LocalRunner(app)
    else:
        rq_runner = runner = RqRunner(app, client)
        health.add_degradation_check(app, "jobs", rq_runner.degraded)
        metrics.add_scrape_gauge(app, "drawbridge_job_queue_length", "Jobs queued for `drawbridge worker`, not yet started.", rq_runner.queued)
        metrics.add_scrape_gauge(
            app, "drawbridge_job_queue_oldest_seconds", "How long the oldest queued job has waited (0: none waits).", rq_runner.oldest_queued_seconds
        )
    return runner
