"""gunicorn server hooks both services' configurations use (deploy/gunicorn_*.py)."""

from __future__ import annotations

import gc
import os
from typing import TYPE_CHECKING, Any

from shared import redis as drawbridge_redis
from shared.settings import SERVER_WORKERS_VARIABLE

# Allocations between two collections of the youngest generation: CPython's default is 700. Under
# load most of what a request allocates is freed within the request, but a collection every 700
# allocations finds 64 requests' objects in flight and walks them all, about 11 µs of CPU a tool
# call; ten times further apart, about 2 µs (bench/README.md).
YOUNG_GENERATION_THRESHOLD = 7000

if TYPE_CHECKING:
    from shared.services import Services


def on_starting(server: Any) -> None:
    """Tell the workers how many they are (gunicorn's final count, after GUNICORN_CMD_ARGS and -w),
    so each sizes its database pool to its share of DRAWBRIDGE_DATABASE_CONNECTIONS."""
    os.environ[SERVER_WORKERS_VARIABLE] = str(server.cfg.workers)


def post_worker_init(worker: Any) -> None:
    """Freeze what start-up made (the app, every imported module) out of the garbage collector's
    reach, so its full collections walk only what requests make. Each full collection otherwise
    walks the ~110,000 objects of an idle worker and stops every request in flight for it: 90 ms
    per collection on the bench machine, the tail of p99 at concurrency 64. Collect the youngest
    generation less often (YOUNG_GENERATION_THRESHOLD). And size the app's Redis
    pool for this worker's `worker_connections`. Then start what the app runs in the background
    of each worker (its services' `start()`), once, after the fork."""
    found = _services(worker)
    if found is not None:
        drawbridge_redis.fit_to_worker(found.redis, worker.cfg.worker_connections)
        found.start()
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *gc.get_threshold()[1:])


def worker_exit(server: Any, worker: Any) -> None:
    """The worker's background loops end with it."""
    found = _services(worker)
    if found is not None:
        found.stop()


def _services(worker: Any) -> Services | None:
    """The services of the worker's app: a Flask app of ours; tests also serve bare WSGI apps."""
    # Imported here, in the worker after gevent patched it: the master reads this module with the
    # configuration, and Flask imported there (its module-level logging handler) left a traceback
    # in every worker's exit log (tests/serving/test_worker.py).
    from shared.services import EXTENSION, Services

    found = getattr(worker.wsgi, "extensions", {}).get(EXTENSION)
    return found if isinstance(found, Services) else None


def child_exit(server: Any, worker: Any) -> None:
    """A dead worker's Prometheus samples leave the shared directory with it."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
