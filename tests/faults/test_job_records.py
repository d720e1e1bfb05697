"""Job rows that must reach a final state whatever happened on the way (issue #19, item 1): a
queue that lost the job, a job that could not be queued, an outcome the database refuses, a timed
out or broken rq job, a database blip during a progress report, a graceful stop of the embedded
runner, and the worker's long statements. In process against the stack's own Redis and
PostgreSQL (no servers to start: each test takes a couple of seconds)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
import redis
from flask import Flask
from rq.job import Job as RqJob
from rq.job_lifecycle import record_job_failure
from sqlalchemy import text

import mcp_resource
from mcp_resource import job_runners, job_worker, jobs, tasks
from mcp_resource.auth import Principal
from mcp_resource.models import Job
from mcp_resource.services import services
from shared.db import db, utcnow
from tests.faults.conftest import FaultStack

OLD = timedelta(seconds=job_runners.HEARTBEAT_SECONDS + job_runners.HEARTBEAT_GRACE_SECONDS + 5)
PRINCIPAL = Principal(client_id="c", subject="s", scopes=frozenset({"reports:run"}), token_id="t", expires_at=0)


@pytest.fixture
def app(fault_stack: FaultStack) -> Iterator[Flask]:
    app = mcp_resource.create_app(fault_stack.settings)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def row(tool: str, age: timedelta = timedelta(0)) -> str:
    job_id = str(uuid.uuid4())
    at = utcnow() - age
    db.session.add(Job(id=job_id, client_id="c", subject="s", tool=tool, arguments={}, created_at=at, updated_at=at))
    db.session.commit()
    return job_id


def failed_in_rq(runner: job_runners.RqRunner, tool: str, exc_string: str = "", meta: dict | None = None) -> str:
    """A working row whose rq job failed as rq records it (with `exc_string`, or a kept outcome)."""
    job_id = row(tool)
    rq_job = runner.queue.enqueue("mcp_resource.job_worker.execute", job_id, job_id=job_id)
    runner.queue.remove(rq_job)
    if meta:
        rq_job.meta.update(meta)
        rq_job.save_meta()
    with runner.client.pipeline() as pipeline:
        record_job_failure(rq_job, exc_string, pipeline)
        pipeline.execute()
    return job_id


def shown(job_id: str) -> tuple[dict, dict]:
    """What check_job_status and tasks/get show for the job."""
    job = db.session.get(Job, job_id, populate_existing=True)
    return jobs.view(job), tasks.view(job)


def test_the_reaper_gives_every_job_rq_lost_or_failed_a_final_state_in_plain_words(app):
    runner = services(app).jobs
    refused = failed_in_rq(runner, "test_slow_job", meta={job_runners.OUTCOME_META_KEY: {"status": "failed", "error": "bad \x00 text"}})
    timed_out = failed_in_rq(runner, "test_slow_job", "Traceback ...\nrq.timeouts.JobTimeoutException: Task exceeded maximum timeout value (3600 seconds)")
    broken = failed_in_rq(runner, "test_slow_job", "Traceback ...\nsqlalchemy.exc.OperationalError: (psycopg.OperationalError) connection failed")
    abandoned = failed_in_rq(runner, "test_slow_job", "Moved to FailedJobRegistry, due to AbandonedJobError, at ...")
    lost = row("test_slow_job", OLD)  # not idempotent: a Redis restart lost its queue
    lost_idempotent = row("run_report", OLD)
    fresh = row("test_slow_job")  # just committed, its queueing under way

    runner.reap()

    statuses = dict(db.session.execute(db.select(Job.id, Job.status)).all())
    assert statuses == {
        refused: "failed",
        timed_out: "failed",
        broken: "failed",
        abandoned: "interrupted",
        lost: "interrupted",
        lost_idempotent: "working",
        fresh: "working",
    }
    assert shown(refused)[0]["error"] == f"Internal error, reference {refused}."
    assert shown(timed_out)[0]["error"] == job_runners.TIMED_OUT
    assert shown(broken)[0]["error"] == f"Internal error, reference {broken}."
    for job_id in (abandoned, lost):
        status, task = shown(job_id)
        assert status["status"] == "failed" and status["error"] == jobs.WORKER_STOPPED
        assert task["status"] == "failed" and task["error"]["message"] == jobs.WORKER_STOPPED
    assert runner.queue.get_job_ids() == [lost_idempotent]  # queued again, once
    assert runner.queue.failed_job_registry.get_job_ids() == []
    assert not RqJob.exists(fresh, connection=runner.client)


def test_a_job_redis_would_not_queue_is_failed_saying_so(app, fault_stack):
    fault_stack.redis.stop()
    with pytest.raises(redis.RedisError):
        jobs.submit(PRINCIPAL, "test_slow_job", {"steps": 1, "step_ms": 1})

    (job,) = db.session.scalars(db.select(Job)).all()
    status, task = shown(job.id)
    assert status["status"] == "failed" and status["error"] == jobs.NOT_QUEUED
    assert task["status"] == "completed" and task["result"]["isError"] is True


def test_a_progress_report_during_a_database_outage_is_skipped_and_the_worker_has_no_answer_bound(app, fault_stack, monkeypatch):
    job_id = row("test_slow_job")
    progress = jobs.JobProgress(job_id)
    progress.report(1, 3)
    fault_stack.postgres.stop()
    try:
        progress.report(2, 3)  # the database is down: skipped, the work goes on
    finally:
        fault_stack.postgres.start()
    progress.report(3, 3)
    assert fault_stack.sql("SELECT status, progress FROM jobs WHERE id = %s", job_id) == [("working", 3.0)]

    # The worker's app: a statement longer than DRAWBRIDGE_DATABASE_TIMEOUT_SECONDS still answers.
    for name, value in fault_stack.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DRAWBRIDGE_DATABASE_TIMEOUT_SECONDS", "2")
    monkeypatch.setattr(job_worker, "_app", None)
    worker_app = job_worker._worker_app()
    with worker_app.app_context():
        assert db.session.execute(text("SELECT pg_sleep(2.5), 1")).one()[1] == 1
        db.session.remove()
        db.engine.dispose()


def test_on_the_embedded_default_a_stopping_process_records_its_jobs_and_a_kept_outcome_is_written(app, fault_stack):
    local = mcp_resource.create_app(replace(fault_stack.settings, redis_url=None))
    with local.app_context():
        runner = services(local).jobs
        running = row("test_slow_job")
        db.session.execute(db.update(Job).where(Job.id == running).values(arguments={"steps": 4, "step_ms": 500}))
        db.session.commit()
        runner.submit(running, retry=False)
        kept = row("test_slow_job")
        runner.unrecorded[kept] = jobs.Outcome("completed", result={"steps": 1})  # its final write had failed
        deadline = time.monotonic() + 10
        while not fault_stack.sql("SELECT 1 FROM jobs WHERE id = %s AND progress >= 1", running):
            assert time.monotonic() < deadline
            time.sleep(0.05)

        runner.drain(1.0)  # graceful_stop calls it on SIGTERM

        assert shown(running)[0]["status"] == "failed" and shown(running)[0]["error"] == jobs.WORKER_STOPPED
        assert shown(kept)[0] == {"job_id": kept, "tool": "test_slow_job", "status": "completed", "progress": 0.0, "result": {"steps": 1}}
        while runner.running:  # the work itself ends with the process; its outcome does not replace the first
            assert time.monotonic() < deadline + 5
            time.sleep(0.05)
        assert fault_stack.sql("SELECT status FROM jobs WHERE id = %s", running) == [("interrupted",)]
        db.session.remove()
        db.engine.dispose()
