"""Who runs jobs, and who notices when the process running one died.

With Redis, rq (a well-kept Redis job library) queues them and `drawbridge worker` processes run
them, so a restart of the web processes loses nothing. rq notices a work-horse that died under a
living worker; a worker killed with its work-horse stops heart-beating, and rq's started-job
registry cleanup then fails its job, or queues it again once when the tool declares itself
idempotent. The reaper, a loop in every MCP server process (one of them per interval does the
work), runs that cleanup and writes each failed rq job's outcome on its row: within
HEARTBEAT_SECONDS + HEARTBEAT_GRACE_SECONDS + REAP_INTERVAL_SECONDS (25 s) of the death.

Without Redis (the embedded default) the MCP server's own greenlets run jobs. Each process touches
the rows of the jobs it runs every REAP_INTERVAL_SECONDS; a working row nobody touched for
LOCAL_STALE_SECONDS belonged to a process that died, and is marked interrupted.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable
from datetime import timedelta

import redis
import rq
from flask import Flask
from rq.exceptions import NoSuchJobError
from rq.job import Job as RqJob
from rq.utils import now as rq_now
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from mcp_resource import jobs
from mcp_resource.models import Job
from shared import health
from shared.db import db, utcnow
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


class JobRunner(ABC):
    """Runs submitted jobs; its reaper, started once per process, records the ones whose runner died."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._started = False
        self._lock = threading.Lock()

    @abstractmethod
    def submit(self, job_id: str, retry: bool) -> None:
        """Run the job; `retry`: run it once more if the process running it dies."""

    @abstractmethod
    def reap(self) -> None:
        """Record the jobs whose runner died (called every REAP_INTERVAL_SECONDS, in an app context)."""

    def ensure_started(self) -> None:
        """Start the reaper in this process (after gunicorn forked it), once."""
        if self._started:
            return
        with self._lock:
            if not self._started:
                self._started = True
                threading.Thread(target=self._loop, name="job-reaper", daemon=True).start()

    def _loop(self) -> None:
        while True:
            try:
                with self.app.app_context():
                    self.reap()
            except (redis.RedisError, SQLAlchemyError):
                logger.warning("job_reap_failed", exc_info=True)
            time.sleep(REAP_INTERVAL_SECONDS)


class Worker(rq.Worker):
    """rq's forking worker, with a job's registry entry outliving its last heartbeat by
    HEARTBEAT_SECONDS + HEARTBEAT_GRACE_SECONDS, where rq's own allows 60 s more."""

    def get_heartbeat_ttl(self, job: RqJob, working_time: float = 0.0) -> int:
        return HEARTBEAT_SECONDS + HEARTBEAT_GRACE_SECONDS


def worker(client: redis.Redis) -> Worker:
    """`drawbridge worker`'s rq worker: it beats every HEARTBEAT_SECONDS while busy (the job
    monitoring interval) and idle (rq waits worker_ttl - 15 s for a job between two beats)."""
    return Worker([QUEUE_NAME], connection=client, worker_ttl=HEARTBEAT_SECONDS + 15, job_monitoring_interval=HEARTBEAT_SECONDS)


class RqRunner(JobRunner):
    def __init__(self, app: Flask, client: redis.Redis) -> None:
        super().__init__(app)
        self.client = client
        self.queue = rq.Queue(QUEUE_NAME, connection=client)

    def submit(self, job_id: str, retry: bool) -> None:
        self.queue.enqueue(
            "mcp_resource.jobs.execute",
            job_id,
            job_id=job_id,
            job_timeout=JOB_TIMEOUT_SECONDS,
            result_ttl=0,
            retry=rq.Retry(max=1) if retry else None,
        )

    def reap(self) -> None:
        """rq's cleanup of jobs whose worker stopped beating, then every failed rq job's outcome
        on its row: the one its work-horse could not write, or "interrupted". Each rq job leaves
        the failed registry once its row has its final state."""
        if not self.client.set(REAPER_LOCK, 1, nx=True, ex=REAP_INTERVAL_SECONDS):
            return  # another process reaped within this interval
        self.queue.started_job_registry.cleanup()
        failed = self.queue.failed_job_registry
        for job_id in failed.get_job_ids(cleanup=False):
            if jobs.record(job_id, self._outcome(job_id)):
                logger.warning("job_interrupted", extra={"job_id": job_id})
            failed.remove(job_id, delete_job=True)

    def _outcome(self, job_id: str) -> jobs.Outcome:
        try:
            kept = RqJob.fetch(job_id, connection=self.client).meta.get(jobs.OUTCOME_META_KEY)
        except NoSuchJobError:
            kept = None
        return jobs.Outcome(**kept) if kept else jobs.INTERRUPTED

    def degraded(self) -> str | None:
        """Why jobs wait with nobody to run them, for /healthz."""
        try:
            queued = self.queue.count
            if not queued or _seen_recently(rq.Worker.all(queue=self.queue)):
                return None
        except redis.RedisError:
            return None  # /healthz reports Redis itself
        return f"{queued} job(s) queued and no job worker seen for {WORKER_SEEN_SECONDS} s; start `drawbridge worker`."


def _seen_recently(workers: Iterable[rq.Worker]) -> bool:
    cutoff = rq_now() - timedelta(seconds=WORKER_SEEN_SECONDS)
    return any(w.last_heartbeat is not None and w.last_heartbeat > cutoff for w in workers)


class LocalRunner(JobRunner):
    """The embedded default: a greenlet per job in the MCP server (a job dies with its process)."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self.running: set[str] = set()

    def submit(self, job_id: str, retry: bool) -> None:
        self.ensure_started()
        self.running.add(job_id)
        threading.Thread(target=self._run, args=(job_id,), name=f"job-{job_id}", daemon=True).start()

    def _run(self, job_id: str) -> None:
        try:
            jobs.run(self.app, job_id)
        except jobs.OutcomeNotRecorded:
            pass  # logged; no longer touched, its row is marked interrupted by a reaper
        finally:
            self.running.discard(job_id)

    def reap(self) -> None:
        """Touch this process's running jobs; mark interrupted the working rows nobody touched."""
        now = utcnow()
        if self.running:
            db.session.execute(update(Job).where(Job.id.in_(list(self.running)), Job.status == "working").values(updated_at=now))
            db.session.commit()
        stale = now - timedelta(seconds=LOCAL_STALE_SECONDS)
        for job_id in db.session.scalars(select(Job.id).where(Job.status == "working", Job.updated_at < stale)).all():
            if job_id not in self.running and jobs.record(job_id, jobs.INTERRUPTED):
                logger.warning("job_interrupted", extra={"job_id": job_id})


def for_app(app: Flask, client: redis.Redis | None) -> JobRunner:
    """rq with Redis (and /healthz degraded while queued jobs have no worker), else in process."""
    if client is None:
        return LocalRunner(app)
    runner = RqRunner(app, client)
    health.add_degradation_check(app, "jobs", runner.degraded)
    return runner
