"""Jobs under faults (issue #19, item 1 and /healthz of item 8): a job whose worker dies is failed
within 30 s, saying why, or run once more when its tool is idempotent; a database stopped at the
job's final write does not leave it working; /healthz says degraded while queued jobs have no worker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests import live
from tests.faults.conftest import Credentials, FaultStack
from tests.mcp_http import rpc

SCOPES = "conformance:run reports:run"
TASKS = {"io.modelcontextprotocol/clientCapabilities": {"extensions": {"io.modelcontextprotocol/tasks": {}}}}
NOTICED_WITHIN_SECONDS = 30
HEARTBEAT_SECONDS = 5  # mcp_resource/job_runners.py: the worker touches Redis at least this often


class Client:
    """One caller of the stack's MCP server: tool calls as tasks, tasks/get, check_job_status."""

    def __init__(self, stack: FaultStack, credentials: Credentials) -> None:
        self.url = stack.settings.resource_url
        self.token = stack.token(credentials)

    def start(self, tool: str, arguments: dict) -> str:
        response = rpc(self.url, self.token, "tools/call", {"name": tool, "arguments": arguments, "_meta": TASKS})
        assert response.status_code == 200, response.text
        return response.json()["result"]["taskId"]

    def task(self, task_id: str) -> dict:
        response = rpc(self.url, self.token, "tasks/get", {"taskId": task_id, "_meta": TASKS})
        assert response.status_code == 200, response.text
        return response.json()["result"]

    def job_status(self, job_id: str) -> dict:
        response = rpc(self.url, self.token, "tools/call", {"name": "check_job_status", "arguments": {"job_id": job_id}})
        assert response.status_code == 200, response.text
        return json.loads(response.json()["result"]["content"][0]["text"])

    def until_finished(self, task_id: str, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while (task := self.task(task_id))["status"] == "working":
            assert time.monotonic() < deadline, f"task {task_id} still working after {timeout}s: {task}"
            time.sleep(0.25)
        return task


@pytest.fixture
def workers(fault_stack: FaultStack) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`drawbridge worker` processes this test starts (`start_worker` keeps one); all killed at the end."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for worker in started:
        if worker.poll() is None:
            live.stop_worker(worker)


def start_worker(stack: FaultStack, workers: list[subprocess.Popen[bytes]]) -> None:
    workers.append(live.start_worker(stack.env, stack.log_dir / f"worker-{len(workers)}.log"))


def noticed(client: Client, task_id: str, killed_at: float) -> tuple[dict, float]:
    """The task once it is no longer working, and how many seconds after the kill that was seen."""
    task = client.until_finished(task_id, timeout=NOTICED_WITHIN_SECONDS)
    return task, time.monotonic() - killed_at


def wait_for_progress(stack: FaultStack, job_id: str, at_least: float) -> None:
    deadline = time.monotonic() + 20
    while not stack.sql("SELECT 1 FROM jobs WHERE id = %s AND progress >= %s", job_id, at_least):
        assert time.monotonic() < deadline, f"job {job_id} made no progress"
        time.sleep(0.05)


def healthz(stack: FaultStack) -> httpx.Response:
    return httpx.get(f"{stack.mcp.url}/healthz", timeout=5)


def test_a_killed_job_runner_fails_its_job_saying_why_with_rq_and_on_the_embedded_default(fault_stack, embedded_stack, workers):
    """kill -9 of the rq workers with their work-horses (an idempotent job runs once more), and of
    the MCP worker running a job on the embedded default (not run again), side by side: each
    stack's reaper notices its own within the bound while the test waits for both."""
    fault_stack.env["DRAWBRIDGE_REPORT_STEP_MS"] = "1000"  # posts_by_status: 4 rows, 4 s
    fault_stack.start(
        lambda: start_worker(fault_stack, workers),
        lambda: start_worker(fault_stack, workers),
        fault_stack.start_auth,
        fault_stack.start_mcp,
        embedded_stack.start_auth,
        embedded_stack.start_mcp,
    )
    client = Client(fault_stack, fault_stack.machine_client(SCOPES))
    local = Client(embedded_stack, embedded_stack.machine_client(SCOPES))
    plain = client.start("test_slow_job", {"steps": 60, "step_ms": 500})  # not idempotent
    report = client.start("run_report", {"report": "posts_by_status"})  # idempotent
    embedded = local.start("test_slow_job", {"steps": 60, "step_ms": 500})
    wait_for_progress(fault_stack, plain, 1)
    wait_for_progress(fault_stack, report, 1)
    wait_for_progress(embedded_stack, embedded, 1)

    for worker in workers:
        live.kill_with_children(worker.pid)
    mcp = embedded_stack.mcp
    assert mcp is not None
    mcp_worker = int(Path(f"/proc/{mcp.process.pid}/task/{mcp.process.pid}/children").read_text().split()[0])
    os.kill(mcp_worker, signal.SIGKILL)  # gunicorn's master starts another worker
    killed_at = time.monotonic()
    start_worker(fault_stack, workers)  # as a supervisor would

    with ThreadPoolExecutor() as pool:
        waits = [pool.submit(noticed, client, plain, killed_at), pool.submit(noticed, local, embedded, killed_at)]
        (failed, rq_after), (local_failed, local_after) = (wait.result() for wait in waits)
    shown = client.job_status(plain)
    rerun = client.until_finished(report, timeout=NOTICED_WITHIN_SECONDS + 10)

    assert rq_after < NOTICED_WITHIN_SECONDS
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == -32603 and "stopped" in failed["error"]["message"]
    assert failed["statusMessage"] == failed["error"]["message"]
    assert shown["status"] == "failed" and shown["error"] == failed["error"]["message"]
    assert "Traceback" not in shown["error"] and "rq" not in shown["error"].split()
    assert rerun["status"] == "completed" and rerun["result"]["isError"] is False
    assert json.loads(rerun["result"]["content"][0]["text"])["report"] == "posts_by_status"
    assert fault_stack.sql("SELECT id, status FROM jobs ORDER BY created_at") == [(plain, "interrupted"), (report, "completed")]

    assert local_after < NOTICED_WITHIN_SECONDS
    assert local_failed["status"] == "failed" and "stopped" in local_failed["statusMessage"]
    assert embedded_stack.sql("SELECT status FROM jobs WHERE id = %s", embedded) == [("interrupted",)]


def test_healthz_is_degraded_while_jobs_wait_for_a_worker_and_a_final_write_outlives_a_stopped_database(fault_stack):
    """Queued with no worker: /healthz says degraded (200, not 503: a supervisor's check must not
    restart a server that answers). Then a worker runs the job, and the database is stopped just
    before its final write: the write is retried, and the job ends completed."""
    fault_stack.start()
    client = Client(fault_stack, fault_stack.machine_client(SCOPES))
    idle = healthz(fault_stack)
    task_id = client.start("test_slow_job", {"steps": 2, "step_ms": 2000})
    waiting = healthz(fault_stack)

    fault_stack.start_worker()
    wait_for_progress(fault_stack, task_id, 2)  # the last step: its final write comes in 2 s
    fault_stack.postgres.stop()
    time.sleep(4)
    fault_stack.postgres.start()
    task = client.until_finished(task_id, timeout=20)

    assert idle.status_code == 200 and idle.json() == {"status": "ok", "database": "ok", "redis": "ok"}
    assert waiting.status_code == 200
    assert waiting.json() == {
        "status": "degraded",
        "database": "ok",
        "redis": "ok",
        "degraded": {"jobs": "1 job(s) queued and no job worker seen for 30 s; start `drawbridge worker`."},
    }
    assert task["status"] == "completed" and task["result"]["isError"] is False
    assert json.loads(task["result"]["content"][0]["text"]) == {"steps": 2}
    assert fault_stack.sql("SELECT status, progress FROM jobs WHERE id = %s", task_id) == [("completed", 2.0)]
    assert healthz(fault_stack).json()["status"] == "ok"


def test_the_job_worker_outlives_a_redis_restart_in_the_middle_of_a_job(fault_stack):
    """Issue #19: no job stuck forever, and no job worker that is gone without anyone seeing it.
    rq's loop quits on a Redis error met while it watches a job (a heartbeat, or the status of a
    work-horse that failed); `drawbridge worker` goes on once Redis answers: the job it watched
    ends, and the next job runs."""
    fault_stack.start(fault_stack.start_auth, fault_stack.start_mcp, fault_stack.start_worker)
    client = Client(fault_stack, fault_stack.machine_client(SCOPES))
    watched = client.start("test_slow_job", {"steps": 30, "step_ms": 500})
    wait_for_progress(fault_stack, watched, 1)

    fault_stack.redis.stop()
    time.sleep(HEARTBEAT_SECONDS + 1)
    fault_stack.redis.start()
    ended = client.until_finished(watched, timeout=NOTICED_WITHIN_SECONDS)
    after = client.until_finished(client.start("test_slow_job", {"steps": 2, "step_ms": 100}), timeout=NOTICED_WITHIN_SECONDS)

    assert fault_stack.worker is not None and fault_stack.worker.poll() is None, "the job worker exited"
    assert ended["status"] in {"completed", "failed"}
    assert after["status"] == "completed" and after["result"]["isError"] is False
