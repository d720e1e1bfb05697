"""`drawbridge worker`: the rq worker process that runs jobs when Redis is configured, and the entry
point rq calls by name in the work-horse it forks for each job. Who queues jobs and who notices a
dead worker is job_runners.py."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict

import redis
import rq
from flask import Flask
from rq.exceptions import StopRequested
from rq.job import Job as RqJob

from mcp_resource import jobs
from mcp_resource.job_runners import HEARTBEAT_GRACE_SECONDS, HEARTBEAT_SECONDS, OUTCOME_META_KEY, QUEUE_NAME
from shared.db import db

logger = logging.getLogger(__name__)

REDIS_RETRY_SECONDS = 1


class HeartbeatWorker(rq.Worker):
    """rq's forking worker, with a job's registry entry outliving its last heartbeat by
    HEARTBEAT_SECONDS + HEARTBEAT_GRACE_SECONDS, where rq's own allows 60 s more, and
    `stop_requested` set once a signal asked it to stop."""

    stop_requested = False

    def get_heartbeat_ttl(self, job: RqJob, working_time: float = 0.0) -> int:
        return HEARTBEAT_SECONDS + HEARTBEAT_GRACE_SECONDS

    def request_stop(self, signum: int, frame: object) -> None:
        self.stop_requested = True
        super().request_stop(signum, frame)


def worker(client: redis.Redis) -> HeartbeatWorker:
    """`drawbridge worker`'s rq worker: it beats every HEARTBEAT_SECONDS while busy (the job
    monitoring interval) and idle (rq waits worker_ttl - 15 s for a job between two beats). Its
    app is built before rq forks a work-horse per job, so no job pays for it."""
    _worker_app()
    return HeartbeatWorker([QUEUE_NAME], connection=client, worker_ttl=HEARTBEAT_SECONDS + 15, job_monitoring_interval=HEARTBEAT_SECONDS)


def work(client: redis.Redis) -> None:
    """Run rq workers, one after another, until a signal asks to stop. rq's loop quits on a Redis
    error met outside its wait for a job (Redis restarted or frozen while a job runs): once Redis
    answers again a new worker takes over, and the reaper settles the job the old one watched."""
    while True:
        current = worker(client)
        try:
            current.work(with_scheduler=False)
        except redis.RedisError:  # rq's own start or teardown, with Redis out
            logger.warning("job_worker_lost_redis", exc_info=True)
        if current.stop_requested:
            return
        logger.warning("job_worker_restarting", extra={"after": "rq's loop ended without a stop request"})
        try:
            while not _answers(client):
                time.sleep(REDIS_RETRY_SECONDS)
        except StopRequested:  # raised by rq's signal handler, still installed, while this waits
            return


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


_app: Flask | None = None


def _worker_app() -> Flask:
    """The worker's own app (settings from the environment), made once per process; its database
    answers are not bounded, since a report's statement may run longer than a request's."""
    global _app
    if _app is None:
        from mcp_resource import create_app  # the app's factory imports the job runners: import at use

        _app = create_app(bound_answers=False)
    return _app


def execute(job_id: str) -> None:
    """The worker's entry point (rq calls it by name, in a work-horse forked for the job). An
    outcome the database would not take is kept in rq's job, for the reaper to write later."""
    app = _worker_app()
    with app.app_context():
        # Connections inherited through fork belong to the parent: start this process's own.
        db.engine.dispose(close=False)
    try:
        jobs.run(app, job_id)
    except jobs.OutcomeNotRecorded as failure:
        current = rq.get_current_job()
        if current is not None:
            current.meta[OUTCOME_META_KEY] = asdict(failure.outcome)
            current.save_meta()
        raise
