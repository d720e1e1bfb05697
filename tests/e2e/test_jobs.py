"""Long work as jobs: run_report and check_job_status, the tasks extension, and a web restart."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from tests import live
from tests.conftest import ARTIFACTS
from tests.factories import fetch_token, make_client
from tests.mcp_http import rpc

pytestmark = pytest.mark.usefixtures("live_services")

SCOPE = "reports:run"
TASKS = {"extensions": {"io.modelcontextprotocol/tasks": {}}}
# The extension's own methods are for clients that declare it too (-32021 otherwise).
TASKS_META = {"io.modelcontextprotocol/clientCapabilities": TASKS}


@pytest.fixture
def token(settings, auth_context) -> str:
    return fetch_token(settings, make_client(scope=SCOPE))


def tool(settings, token: str, name: str, arguments: dict, capabilities: dict | None = None) -> dict:
    params = {"name": name, "arguments": arguments}
    if capabilities is not None:
        params["_meta"] = {"io.modelcontextprotocol/clientCapabilities": capabilities}
    response = rpc(settings.resource_url, token, "tools/call", params)
    assert response.status_code == 200, response.text
    return response.json()["result"]


def status(settings, token: str, job_id: str) -> dict:
    return json.loads(tool(settings, token, "check_job_status", {"job_id": job_id})["content"][0]["text"])


def wait_for(settings, token: str, job_id: str, timeout: float = 20, until: Callable[[dict], bool] = lambda job: job["status"] != "working") -> dict:
    """The job's state once `until` holds (by default: once it ended)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = status(settings, token, job_id)
        if until(seen):
            return seen
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not get there: {seen}")


def test_run_report_returns_a_job_id_at_once_and_the_job_finishes(settings, token):
    started = time.monotonic()
    answer = json.loads(tool(settings, token, "run_report", {"report": "posts_by_status"})["content"][0]["text"])
    returned_after = time.monotonic() - started

    done = wait_for(settings, token, answer["job_id"])

    assert answer["status"] == "working" and returned_after < 1.0
    assert done["status"] == "completed"
    assert done["progress"] == done["total"] > 0
    assert {row["label"] for row in done["result"]["rows"]} >= {"published", "draft"}


def test_another_client_cannot_see_the_job(settings, token, auth_context):
    job_id = json.loads(tool(settings, token, "run_report", {"report": "posts_by_status"})["content"][0]["text"])["job_id"]
    other = fetch_token(settings, make_client(scope=SCOPE))

    result = tool(settings, other, "check_job_status", {"job_id": job_id})

    assert result["isError"] is True
    assert result["content"][0]["text"] == f"No job with id {job_id}; run_report returns the ids of your jobs."


def test_progress_reaches_a_client_that_asked_for_it(settings, token):
    progress: list[float] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)

    async def session() -> dict:
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
        async with Client(streamable_http_client(settings.resource_url, http_client=http)) as client:
            result = await client.call_tool("run_report", {"report": "posts_by_status"}, progress_callback=on_progress)
            return json.loads(result.content[0].text)

    report = asyncio.run(session())

    assert report["status"] == "completed"
    assert progress == sorted(progress) and progress[-1] == report["total"] and len(progress) >= 3


def test_a_job_survives_a_restart_of_the_web_process(live_services, settings, token):
    job_id = json.loads(tool(settings, token, "run_report", {"report": "posts_by_status"})["content"][0]["text"])["job_id"]
    port = int(live_services.mcp.url.rsplit(":", 1)[1])
    before = wait_for(settings, token, job_id, until=lambda job: job["status"] != "working" or job["progress"] >= 1)

    live_services.mcp.crash()
    live_services.mcp = live.start("mcp_resource:create_app()", "deploy/gunicorn_mcp.py", port, live_services.env, ARTIFACTS / "mcp_resource-restarted.log")

    after = wait_for(settings, token, job_id)
    assert before["status"] == "working" and before["progress"] >= 1  # progress was being reported
    assert after["status"] == "completed" and after["progress"] == after["total"]


def test_a_client_that_declares_tasks_gets_a_task_and_polls_it(settings, token):
    created = tool(settings, token, "run_report", {"report": "orders_by_customer"}, capabilities=TASKS)

    assert created["resultType"] == "task"
    assert created["status"] == "working"
    assert created["ttlMs"] > 0 and created["pollIntervalMs"] > 0
    assert "ttl" not in created and "pollInterval" not in created
    deadline = time.monotonic() + 20
    while True:
        task = rpc(settings.resource_url, token, "tasks/get", {"taskId": created["taskId"], "_meta": TASKS_META}).json()["result"]
        if task["status"] != "working" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert task["status"] == "completed"
    assert task["result"]["isError"] is False
    assert json.loads(task["result"]["content"][0]["text"])["report"] == "orders_by_customer"


def test_a_cancelled_task_stops(settings, token):
    """The report takes a step per post (at least four, 200 ms each); the cancel comes at once."""
    created = tool(settings, token, "run_report", {"report": "posts_by_status"}, capabilities=TASKS)

    ack = rpc(settings.resource_url, token, "tasks/cancel", {"taskId": created["taskId"], "_meta": TASKS_META})
    time.sleep(1.5)
    task = rpc(settings.resource_url, token, "tasks/get", {"taskId": created["taskId"], "_meta": TASKS_META}).json()["result"]

    assert ack.status_code == 200 and ack.json()["result"]["resultType"] == "complete"
    assert task["status"] == "cancelled"
    assert "result" not in task


def test_tasks_of_another_client_are_unknown(settings, token, auth_context):
    created = tool(settings, token, "run_report", {"report": "posts_by_status"}, capabilities=TASKS)
    other = fetch_token(settings, make_client(scope=SCOPE))

    response = rpc(settings.resource_url, other, "tasks/get", {"taskId": created["taskId"], "_meta": TASKS_META})

    assert response.json()["error"]["code"] == -32602


def test_discover_advertises_the_tasks_extension(settings, token):
    result = rpc(settings.resource_url, token, "server/discover").json()["result"]

    assert result["capabilities"]["extensions"] == {"io.modelcontextprotocol/tasks": {}}
