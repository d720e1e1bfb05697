"""The soak's deployment and its faults: the three services on a redis-server and a PostgreSQL
cluster of their own (tests/faults/servers.py), and each fault as a function of the stack. Imported
by bench/soak.py after gevent's monkey-patching, so its waits let the load run on."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import gevent

from bench.common import BIN, REPO, SERVER_CORE, children, free_port, pinned, wait_healthy
from tests.faults.servers import OwnPostgres, OwnRedis

FAULT_SECONDS = 10
JOB_WAIT_SECONDS = 15
FAULTS = ("redis-restart", "redis-freeze", "postgres-restart", "mcp-worker-kill", "job-worker-kill", "auth-down")


@dataclass
class Stack:
    """The deployment under soak: three services on their own Redis and PostgreSQL."""

    workdir: Path
    env: dict[str, str]
    redis: OwnRedis
    postgres: OwnPostgres
    auth: subprocess.Popen | None = None
    mcp: subprocess.Popen | None = None
    worker: subprocess.Popen | None = None

    @property
    def auth_port(self) -> int:
        return int(self.env["DRAWBRIDGE_ISSUER"].rsplit(":", 1)[1])

    @property
    def mcp_port(self) -> int:
        return int(self.env["DRAWBRIDGE_RESOURCE_URL"].rsplit(":", 1)[1].split("/")[0])

    def drawbridge(self, *command: str) -> str:
        return subprocess.run([str(BIN / "drawbridge"), *command], env=self.env, check=True, capture_output=True, text=True).stdout

    def _gunicorn(self, app: str, config: str, port: int, name: str) -> subprocess.Popen:
        log = (self.workdir / f"{name}.log").open("ab")
        command = [str(BIN / "gunicorn"), "-c", config, "--bind", f"127.0.0.1:{port}", app]
        process = pinned(SERVER_CORE, command, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        wait_healthy(f"http://127.0.0.1:{port}")
        return process

    def start_auth(self) -> None:
        self.auth = self._gunicorn("authserver:create_app()", "deploy/gunicorn_authserver.py", self.auth_port, "authserver")

    def start_mcp(self, app: str) -> None:
        self.mcp = self._gunicorn(app, "deploy/gunicorn_mcp.py", self.mcp_port, "mcp_resource")

    def start_worker(self) -> None:
        log = (self.workdir / "worker.log").open("ab")
        self.worker = pinned(SERVER_CORE, [str(BIN / "drawbridge"), "worker"], cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def processes(self) -> dict[str, int]:
        """Each process of ours, and redis-server, as `role pid`: a process a fault replaced is
        another entry, so no reading compares two processes."""
        assert self.auth and self.mcp and self.worker and self.redis.process
        roles = [("auth", self.auth.pid), ("mcp", self.mcp.pid), ("job-worker", self.worker.pid), ("redis", self.redis.process.pid)]
        roles += [(f"{service}-worker", pid) for service, master in roles[:2] for pid in children(master)]
        return {f"{role} {pid}": pid for role, pid in roles}

    def stop(self) -> None:
        for process in (self.mcp, self.auth, self.worker):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
        self.redis.crash()
        self.postgres.remove()


def kill_tree(pid: int) -> None:
    """kill -9 a process and its children, as when they die together."""
    for victim in [pid, *children(pid)]:
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            pass


def unpin_databases(stack: Stack) -> None:
    """Redis and PostgreSQL float over both cores, as in the other benches (this process is pinned)."""
    assert stack.redis.process
    for pid in [stack.redis.process.pid, stack.postgres.postmaster_pid()]:
        os.sched_setaffinity(pid, range(os.cpu_count() or 1))


def redis_restart(stack: Stack) -> None:
    stack.redis.restart()
    unpin_databases(stack)


def redis_freeze(stack: Stack) -> None:
    stack.redis.freeze()
    gevent.sleep(FAULT_SECONDS)
    stack.redis.thaw()


def postgres_restart(stack: Stack) -> None:
    stack.postgres.restart()
    unpin_databases(stack)


def mcp_worker_kill(stack: Stack) -> None:
    assert stack.mcp
    os.kill(min(children(stack.mcp.pid)), signal.SIGKILL)  # gunicorn's master forks a new one


def job_worker_kill(stack: Stack) -> None:
    """kill -9 the worker with its work-horse, mid-job when one starts within JOB_WAIT_SECONDS."""
    assert stack.worker
    deadline = time.monotonic() + JOB_WAIT_SECONDS
    while not children(stack.worker.pid) and time.monotonic() < deadline:
        gevent.sleep(0.1)
    kill_tree(stack.worker.pid)
    stack.worker.wait()
    gevent.sleep(1)
    stack.start_worker()


def auth_down(stack: Stack) -> None:
    assert stack.auth
    kill_tree(stack.auth.pid)
    stack.auth.wait()
    gevent.sleep(FAULT_SECONDS)
    stack.start_auth()


INJECT: dict[str, Callable[[Stack], None]] = {
    "redis-restart": redis_restart,
    "redis-freeze": redis_freeze,
    "postgres-restart": postgres_restart,
    "mcp-worker-kill": mcp_worker_kill,
    "job-worker-kill": job_worker_kill,
    "auth-down": auth_down,
}


def build_stack(workdir: Path, mcp_workers: int) -> Stack:
    redis, postgres = OwnRedis(), OwnPostgres(max_connections=200)
    redis.start()
    postgres.init()
    postgres.start()
    auth_port, mcp_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": postgres.create_database("drawbridge_soak"),
        "REDIS_URL": redis.url,
        "DRAWBRIDGE_ISSUER": f"http://127.0.0.1:{auth_port}",
        "DRAWBRIDGE_RESOURCE_URL": f"http://127.0.0.1:{mcp_port}/mcp",
        "DRAWBRIDGE_MCP_WORKERS": str(mcp_workers),
        "DRAWBRIDGE_LOG_LEVEL": "WARNING",
        # One client holds every stream and session here: lift the per-client caps.
        "DRAWBRIDGE_MAX_STREAMS_PER_CLIENT": "1000000",
        "DRAWBRIDGE_MAX_SESSIONS_PER_CLIENT": "1000000",
        "DRAWBRIDGE_REPORT_STEP_MS": "1000",  # a report of a few rows takes several seconds: a long job
    }
    stack = Stack(workdir, env, redis, postgres)
    unpin_databases(stack)
    for command in (["db", "upgrade"], ["keys", "ensure"], ["demo", "seed"]):
        stack.drawbridge(*command)
    return stack
